import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// Oracle: ops_modern.safetensors (PyTorch, float64, stored as float32): the activation cases'
/// outputs and input gradients within 1e-5 relative error, through the engine's own kernels.
struct ActivationKernelTests {
    static let file: SafeTensors = try! SafeTensors.read(EnginePaths.vectors("ops_modern"))
    static let functions: [String: String] = ["relu6": "ReLU6", "silu": "SiLU", "sigmoid": "Sigmoid", "tanh": "Tanh",
                                              "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "gelu": "GELU",
                                              "leaky_relu": "LeakyReLU"]
    static let cases: [String] = file.metadata.keys.sorted().filter { name in
        guard let m = try? JSONSerialization.jsonObject(with: Data(file.metadata[name]!.utf8)) as? [String: Any] else { return false }
        return functions[m["op"] as? String ?? ""] != nil
    }

    @Test func everyActivationHasACase() {
        #expect(Self.cases.count == 9)   // gelu twice: exact and tanh
    }

    @Test(arguments: cases)
    func matchesPyTorch(_ name: String) throws {
        let f = Self.file
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(f.metadata[name]!.utf8)) as? [String: Any])
        var args = ""
        if let a = meta["approximate"] as? String { args = "approximate='\(a)'" }
        if let s = meta["negative_slope"] as? Double { args = "negative_slope=\(s)" }
        let text = "model m\ninput 1 1 1 1\nact = \(Self.functions[meta["op"] as! String]!)(\(args))\n"
        let g = try GraphBuilder.build(try ZooParser.parse(text, file: "\(name).zoo"))
        guard case .activation(let a) = g.nodes[0].layer else { Issue.record("not an activation"); return }
        let x = try f.tensor("\(name).x"), yRef = try f.tensor("\(name).y"), gy = try f.tensor("\(name).gy"), gxRef = try f.tensor("\(name).gx")
        // Some cases apply the op to 4·x so that values cross the kinks (the metadata says so):
        // y = f(4x), and the stored gradient is 4·f'(4x)·gy.
        let scale: Float = (meta["note"] as? String)?.contains("input scaled by 4") == true ? 4 : 1
        let xs = Tensor(shape: x.shape, values: (0..<x.count).map { x[$0] * scale })
        let y = Tensor(zeros: yRef.shape), gx = Tensor(zeros: x.shape)
        activationForward(y.data, xs.data, count: x.count, a)
        activationBackward(gx.data, gy.data, xs.data, count: x.count, a)
        for i in 0..<gx.count { gx[i] *= scale }
        #expect(relativeError(y, yRef) <= 1e-5, "\(name) forward: \(relativeError(y, yRef))")
        #expect(relativeError(gx, gxRef) <= 1e-5, "\(name) backward: \(relativeError(gx, gxRef))")
    }

    /// NaN propagates as in PyTorch (torch.relu6(nan) is nan, and so are the others).
    @Test func nanPropagates() throws {
        for fn in ActivationFunction.allCases {
            let text = "model m\ninput 1 1 1 1\nact = \(fn.className)()\n"
            let g = try GraphBuilder.build(try ZooParser.parse(text, file: "nan.zoo"))
            guard case .activation(let a) = g.nodes[0].layer else { continue }
            let x = Tensor(shape: [3], values: [.nan, -1, 2])
            let y = Tensor(zeros: [3])
            activationForward(y.data, x.data, count: 3, a)
            #expect(y[0].isNaN, "\(fn.className)(nan)")
        }
    }
}
