/// Each ONNX operator ConvLens reads, and what it becomes: one entry per operator, one place.
/// A handler folds its node statically, maps it onto a ConvLens layer kind, or advances a
/// pending pattern; anything it cannot map is an error naming the node and operator.

typealias OperatorHandler = @Sendable (inout ImportBuilder, NodeProto) throws(ONNXError) -> Void

extension ONNXImport {
    static let handlers: [String: OperatorHandler] = [
        // Static: shapes and constants.
        "Constant": { b, n throws(ONNXError) in try b.define(n, .constant(try b.constantAttribute(n))) },
        "Shape": { b, n throws(ONNXError) in
            var dims = try b.shape(n, 0)
            let r = dims.count
            func norm(_ v: Int64) -> Int { let x = Int(v < 0 ? v + Int64(r) : v); return min(max(x, 0), r) }
            let start = norm(n.attr("start")?.i ?? 0), end = n.attr("end").map { norm($0.i) } ?? r
            dims = start < end ? Array(dims[start..<end]) : []
            try b.define(n, .constant(.ints(dims.map(Int64.init))))
        },
        "Gather": { b, n throws(ONNXError) in
            // The dynamo exporter's as_strided: a computed tensor flattened, then gathered back in
            // order (0, 1, 2, …) into a shape: a view of the tensor, not a new layer.
            if case .pending(.view(let src, let srcShape, let view), let vs)? = b.values[n.input[0]], vs.count == 1,
               let idx = try? b.constant(n, 1, what: "indices"), idx.count == vs[0], idx.int64s.elementsAreCounting {
                try b.define(n, srcShape == idx.dims ? .tensor(src, srcShape) : .pending(.view(source: src, sourceShape: srcShape, node: view), idx.dims))
                return
            }
            let data = try b.constant(n, 0, what: "data")
            let idx = try b.constant(n, 1, what: "indices")
            let axis = b.axis(n, rank: data.dims.count, default: 0)
            guard let r = ConstantMath.gather(data, idx, axis: axis) else { throw b.fail(n, "indices out of range") }
            try b.define(n, .constant(r))
        },
        "Unsqueeze": { b, n throws(ONNXError) in
            let data = try b.constant(n, 0, what: "data")
            let axes = try b.axesList(n, inputIndex: 1) ?? []
            var dims = data.dims
            let r = dims.count + axes.count
            for a in axes.map({ $0 < 0 ? $0 + r : $0 }).sorted() {
                guard a >= 0, a <= dims.count else { throw b.fail(n, "axis \(a) out of range") }
                dims.insert(1, at: a)
            }
            try b.define(n, .constant(data.reshaped(dims)))
        },
        "Squeeze": { b, n throws(ONNXError) in
            let data = try b.constant(n, 0, what: "data")
            let axes = try b.axesList(n, inputIndex: 1)
            let r = data.dims.count
            let drop = Set((axes ?? data.dims.indices.filter { data.dims[$0] == 1 }).map { $0 < 0 ? $0 + r : $0 })
            try b.define(n, .constant(data.reshaped(data.dims.indices.filter { !drop.contains($0) }.map { data.dims[$0] })))
        },
        "Cast": { b, n throws(ONNXError) in
            let to = n.attr("to")?.i ?? 1
            switch try b.value(n, 0) {
            case .constant(let c):
                let v: ONNXTensorData.Values = to == 1 || to == 11 || to == 10 ? .float(c.floats) : to == 9 ? .bool(c.int64s.map { $0 != 0 }) : .int64(c.int64s)
                try b.define(n, .constant(ONNXTensorData(dims: c.dims, values: v)))
            case let other:
                guard to == 1 else { throw b.fail(n, "casts a computed tensor to \(ONNXDataType.name(Int32(truncatingIfNeeded: to))); ConvLens computes in float32") }
                try b.define(n, other)
            }
        },
        "Identity": { b, n throws(ONNXError) in
            // ConvLens's export writes an eval-mode identity module (StochasticDepth, Identity) as an
            // Identity node naming its constructor: that is a module again. Any other Identity folds.
            if let module = n.meta(ONNXImport.moduleKey) { return try b.keptModule(n, module: module, base: "identity") }
            try b.define(n, try b.value(n, 0))
        },
        "Dropout": { b, n throws(ONNXError) in
            // Inference: Dropout is the identity (torch's eval mode); its mask output is not supported.
            if n.output.count > 1, !n.output[1].isEmpty { throw b.fail(n, "its mask output is not supported") }
            if b.hasInput(n, 2), case .constant(let t) = try b.value(n, 2), t.scalarValue != 0 {
                throw b.fail(n, "training_mode = true is not supported (ConvLens imports for inference)")
            }
            if let module = n.meta(ONNXImport.moduleKey) { return try b.keptModule(n, module: module, base: "dropout") }
            try b.define(n, try b.value(n, 0))
        },

        // Convolution, normalisation, linear layers.
        "Conv": { b, n throws(ONNXError) in try b.conv(n) },
        "BatchNormalization": { b, n throws(ONNXError) in try b.batchNorm(n) },
        "LayerNormalization": { b, n throws(ONNXError) in try b.layerNorm(n) },
        "Gemm": { b, n throws(ONNXError) in
            let (x, xs) = try b.tensor(n, 0)
            let w = try b.constant(n, 1, what: "weight B")
            let bias = b.hasInput(n, 2) ? try b.constant(n, 2, what: "bias C") : nil
            guard (n.attr("alpha")?.f ?? 1) == 1, (n.attr("beta")?.f ?? 1) == 1 || bias == nil, (n.attr("transA")?.i ?? 0) == 0 else {
                throw b.fail(n, "alpha, beta or transA differ from a Linear layer's (alpha = beta = 1, transA = 0)")
            }
            guard xs.count == 2, w.dims.count == 2 else { throw b.fail(n, "expects a 2-D input and weight, got \(xs) and \(w.dims)") }
            let transposed = (n.attr("transB")?.i ?? 0) == 1
            let outF = transposed ? w.dims[0] : w.dims[1]
            let r = try b.emitLinear(n, source: x, weight: w, transposed: transposed, bias: bias, shape: [xs[0], outF])
            try b.define(n, .tensor(r, [xs[0], outF]))
        },
        "MatMul": { b, n throws(ONNXError) in
            if try b.adaptivePool(n) { return }
            let (x, xs) = try b.tensor(n, 0)
            let w = try b.constant(n, 1, what: "weight (the second operand)")
            guard w.dims.count == 2, xs.last == w.dims[0] else { throw b.fail(n, "multiplies \(xs) by \(w.dims); ConvLens maps MatMul by a constant [in, out] matrix over the last dimension") }
            try b.define(n, .pending(.matmul(source: x, weight: w, node: n), Array(xs.dropLast()) + [w.dims[1]]))
        },

        // Activations.
        "Relu": { b, n throws(ONNXError) in try b.unary(n, module: "ReLU()", functional: "F.relu", base: "relu") },
        "Sigmoid": { b, n throws(ONNXError) in try b.unary(n, module: "Sigmoid()", functional: nil, base: "sigmoid") },
        "Tanh": { b, n throws(ONNXError) in try b.unary(n, module: "Tanh()", functional: nil, base: "tanh") },
        "HardSwish": { b, n throws(ONNXError) in try b.unary(n, module: "Hardswish()", functional: nil, base: "hardswish") },
        "HardSigmoid": { b, n throws(ONNXError) in
            let alpha = n.attr("alpha")?.f ?? 0.2, beta = n.attr("beta")?.f ?? 0.5
            guard abs(alpha - 1.0 / 6) < 1e-6, abs(beta - 0.5) < 1e-6 else {
                throw b.fail(n, "alpha \(alpha), beta \(beta) are not torch's Hardsigmoid (1/6, 1/2)")
            }
            try b.unary(n, module: "Hardsigmoid()", functional: nil, base: "hardsigmoid")
        },
        "LeakyRelu": { b, n throws(ONNXError) in
            try b.unary(n, module: "LeakyReLU(negative_slope=\(n.attr("alpha")?.f ?? 0.01))", functional: nil, base: "leaky_relu")
        },
        "Clip": { b, n throws(ONNXError) in
            let lo = b.hasInput(n, 1) ? try b.constant(n, 1, what: "min").scalarValue : n.attr("min").map { Double($0.f) }
            let hi = b.hasInput(n, 2) ? try b.constant(n, 2, what: "max").scalarValue : n.attr("max").map { Double($0.f) }
            switch (lo, hi) {
            case (0?, 6?): try b.unary(n, module: "ReLU6()", functional: nil, base: "relu6")
            case (0?, nil): try b.unary(n, module: "ReLU()", functional: "F.relu", base: "relu")
            default: throw b.fail(n, "clips to [\(lo.map { "\($0)" } ?? "-inf"), \(hi.map { "\($0)" } ?? "inf")]; ConvLens maps Clip to [0, 6] (ReLU6) and [0, inf) (ReLU)")
            }
        },
        "Gelu": { b, n throws(ONNXError) in
            let approx = String(decoding: n.attr("approximate")?.s ?? [], as: UTF8.self)
            try b.unary(n, module: approx == "tanh" ? "GELU(approximate='tanh')" : "GELU()", functional: nil, base: "gelu")
        },
        "Erf": { b, n throws(ONNXError) in
            guard case .pending(.gelu(let src, 1, let start), let s) = try b.value(n, 0) else {
                throw b.fail(n, "Erf outside the GELU decomposition x·½(1 + erf(x/√2)) is not a ConvLens layer")
            }
            try b.define(n, .pending(.gelu(source: src, step: 2, node: start), s))
        },
        "Softmax": { b, n throws(ONNXError) in
            let s = try b.shape(n, 0)
            let axis = b.axis(n, rank: s.count, default: -1)
            try b.unary(n, module: "Softmax(dim=\(axis))", functional: "F.softmax(\(axis))", base: "softmax")
        },

        // Elementwise arithmetic: residual adds, squeeze-excitation products, pattern steps, folding.
        "Add": { b, n throws(ONNXError) in try b.arithmetic(n) },
        "Mul": { b, n throws(ONNXError) in try b.arithmetic(n) },
        "Div": { b, n throws(ONNXError) in try b.arithmetic(n) },
        "Sub": { b, n throws(ONNXError) in try b.arithmetic(n) },

        // Pooling.
        "MaxPool": { b, n throws(ONNXError) in try b.pool(n, max: true) },
        "AveragePool": { b, n throws(ONNXError) in try b.pool(n, max: false) },
        "GlobalAveragePool": { b, n throws(ONNXError) in
            let (x, s) = try b.tensor(n, 0)
            guard s.count == 4 else { throw b.fail(n, "expects N×C×H×W, got \(s)") }
            let r = b.emit(MappedCall(module: "AdaptiveAvgPool2d(1)", functional: "F.adaptive_avg_pool2d(1)", baseName: "adaptive_avg_pool2d",
                                      inputs: [x], shape: [s[0], s[1], 1, 1], node: n))
            try b.define(n, .tensor(r, [s[0], s[1], 1, 1]))
        },
        "ReduceMean": { b, n throws(ONNXError) in
            let (x, s) = try b.tensor(n, 0)
            let axes = Set(try b.axesList(n, inputIndex: 1) ?? Array(0..<s.count)).map { $0 < 0 ? $0 + s.count : $0 }
            let keep = (n.attr("keepdims")?.i ?? 1) == 1
            guard s.count == 4, Set(axes) == [2, 3] else { throw b.fail(n, "averages axes \(axes.sorted()) of \(s); ConvLens maps the mean over H and W of N×C×H×W") }
            if keep {
                let r = b.emit(MappedCall(module: "AdaptiveAvgPool2d(1)", functional: "F.adaptive_avg_pool2d(1)", baseName: "adaptive_avg_pool2d",
                                          inputs: [x], shape: [s[0], s[1], 1, 1], node: n))
                try b.define(n, .tensor(r, [s[0], s[1], 1, 1]))
            } else {
                let r = b.emit(MappedCall(module: nil, functional: "torch.mean(dim=(2, 3), keepdim=False)", baseName: "mean",
                                          inputs: [x], shape: [s[0], s[1]], node: n))
                try b.define(n, .tensor(r, [s[0], s[1]]))
            }
        },

        // Shapes of computed tensors.
        "Flatten": { b, n throws(ONNXError) in
            let (x, s) = try b.tensor(n, 0)
            let axis = b.axis(n, rank: s.count, default: 1)
            guard axis == 1 else { throw b.fail(n, "flattens from axis \(axis); ConvLens maps Flatten(axis=1)") }
            let out = [s[0], s.dropFirst().reduce(1, *)]
            let r = b.emit(MappedCall(module: "Flatten(start_dim=1, end_dim=-1)", functional: "torch.flatten(1)", baseName: "flatten",
                                      inputs: [x], shape: out, node: n))
            try b.define(n, .tensor(r, out))
        },
        "Reshape": { b, n throws(ONNXError) in try b.reshape(n) },
        "Transpose": { b, n throws(ONNXError) in try b.transpose(n) },
        "Concat": { b, n throws(ONNXError) in try b.concat(n) },
        "Split": { b, n throws(ONNXError) in try b.split(n) },
        "Slice": { b, n throws(ONNXError) in try b.slice(n) },
    ]
}

extension Array where Element == Int64 {
    /// 0, 1, 2, … in order.
    var elementsAreCounting: Bool { enumerated().allSatisfy { Int64($0.offset) == $0.element } }
}
