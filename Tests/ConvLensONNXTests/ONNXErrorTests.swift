import ConvLensONNX
import Foundation
import Testing
import TestSupport

/// Bad ONNX files: one line on stderr naming the node and operator, exit code 1, no crash.
struct ONNXErrorTests {
    /// input [1, 1, 4, 4] → Conv (2 filters, 3×3) → Relu → output.
    static func model(edit: (inout ModelProto) -> Void = { _ in }) -> ModelProto {
        var m = ModelProto()
        m.irVersion = 8
        m.opsetImport = [OperatorSetID(version: 18)]
        m.producerName = "convlens-test"
        var g = GraphProto()
        g.name = "g"
        let dims = [1, 1, 4, 4].map { TensorShapeDim(value: $0) }
        g.input = [ValueInfoProto(name: "x", type: TensorTypeProto(elemType: 1, shape: dims))]
        g.output = [ValueInfoProto(name: "y", type: TensorTypeProto(elemType: 1, shape: nil))]
        g.initializer = [ONNXFile.floatTensor(name: "conv.weight", dims: [2, 1, 3, 3], values: (0..<18).map { Float($0) / 18 })]
        g.node = [NodeProto(opType: "Conv", name: "/conv/Conv", input: ["x", "conv.weight"], output: ["c"]),
                  NodeProto(opType: "Relu", name: "/relu/Relu", input: ["c"], output: ["y"])]
        m.graph = g
        edit(&m)
        return m
    }

    func run(_ m: ModelProto, bytes: [UInt8]? = nil, args: [String] = ["print"]) throws -> ProcessResult {
        let dir = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appending(path: "m.onnx").path
        try Data(bytes ?? m.serialized).write(to: URL(fileURLWithPath: path))
        return try runConvLens(args + [path])
    }

    func expectError(_ r: ProcessResult, _ parts: [String]) {
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(r.stderr)")
        for p in parts { #expect(r.stderr.contains(p), "'\(p)' in: \(r.stderr)") }
    }

    @Test func theSmallModelImports() throws {
        let r = try run(Self.model())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(conv): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), bias=False)"))
        #expect(r.stdout.contains("(relu): ReLU()"))
    }

    /// torch module names are any strings without dots (RegNet's `block1-0`): kept, quoted in zoo text.
    @Test func moduleNamesThatAreNotIdentifiers() throws {
        let m = Self.model {
            $0.graph.initializer[0].name = "trunk.block1-0.weight"
            $0.graph.node[0].input[1] = "trunk.block1-0.weight"
            $0.graph.node[0].name = "node_Conv_3"
            $0.graph.node[1].name = "node_relu"
        }
        let r = try run(m)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(block1-0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), bias=False)"), "\(r.stdout)")
        #expect(r.stderr.contains("named after the ONNX nodes"), "\(r.stderr)")
    }

    @Test func unknownOperator() throws {
        expectError(try run(Self.model { $0.graph.node[1].opType = "Celu" }), ["'/relu/Relu'", "(Celu)", "unsupported operator"])
    }

    @Test func dynamicDimensionsWithoutInput() throws {
        let m = Self.model { $0.graph.input[0].type!.shape![0] = TensorShapeDim(param: "batch") }
        expectError(try run(m), ["'batch'", "--input"])
        let ok = try run(m, args: ["print", "--input", "3x1x4x4"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func cycle() throws {
        let m = Self.model { $0.graph.node[0].input[0] = "y" }
        expectError(try run(m), ["(Conv)", "cycle"])
    }

    @Test func missingInitializer() throws {
        let m = Self.model { $0.graph.initializer = [] }
        expectError(try run(m), ["'/conv/Conv'", "(Conv)", "conv.weight", "missing initializer"])
    }

    @Test func truncatedFile() throws {
        let bytes = Self.model().serialized
        expectError(try run(Self.model(), bytes: Array(bytes[..<(bytes.count - 7)])), ["m.onnx", "past the end"])
    }

    @Test func asymmetricPadding() throws {
        var pads = AttributeProto(name: "pads")
        pads.type = AttributeProto.Kind.ints.rawValue
        pads.ints = [0, 0, 1, 1]
        let m = Self.model { $0.graph.node[0].attribute = [pads] }
        expectError(try run(m), ["'/conv/Conv'", "(Conv)", "asymmetric"])
    }
}
