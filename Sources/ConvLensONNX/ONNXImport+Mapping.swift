/// The handlers' shared work: attributes, shapes, and the layers that need more than a line.

extension ImportBuilder {
    // MARK: attributes and shapes

    func constantAttribute(_ n: NodeProto) throws(ONNXError) -> ONNXTensorData {
        if let t = n.attr("value")?.t { return try ONNXFile.values(t, file: file) }
        if let a = n.attr("value_float") { return .scalar(a.f) }
        if let a = n.attr("value_floats") { return ONNXTensorData(dims: [a.floats.count], values: .float(a.floats)) }
        if let a = n.attr("value_int") { return ONNXTensorData(dims: [], values: .int64([a.i])) }
        if let a = n.attr("value_ints") { return .ints(a.ints) }
        throw fail(n, "has no value attribute ConvLens reads (value, value_float(s), value_int(s))")
    }

    func shape(_ n: NodeProto, _ i: Int) throws(ONNXError) -> [Int] {
        switch try value(n, i) {
        case .constant(let c): return c.dims
        case .tensor(_, let s), .pending(_, let s): return s
        }
    }

    func axis(_ n: NodeProto, rank: Int, default d: Int) -> Int {
        let a = Int(n.attr("axis")?.i ?? Int64(d))
        return a < 0 ? a + rank : a
    }

    func axesList(_ n: NodeProto, inputIndex: Int) throws(ONNXError) -> [Int]? {
        if hasInput(n, inputIndex) { return try constant(n, inputIndex, what: "axes").int64s.map { Int($0) } }
        return n.attr("axes").map { $0.ints.map { Int($0) } }
    }

    func ints(_ n: NodeProto, _ name: String) -> [Int]? { n.attr(name).map { $0.ints.map { Int($0) } } }

    /// `3` for a square pair, `(3, 2)` otherwise (torch prints what the constructor was given;
    /// torchvision writes square windows as one int).
    func pairText(_ v: [Int]) -> String { v.count == 2 && v[0] == v[1] ? "\(v[0])" : "(\(v.map(String.init).joined(separator: ", ")))" }
    func tupleText(_ v: [Int]) -> String { "(\(v.map(String.init).joined(separator: ", ")))" }

    /// Symmetric 2-D padding from ONNX `pads` [top, left, bottom, right] or `auto_pad`.
    func padding(_ n: NodeProto, input: [Int], kernel: [Int], stride: [Int], dilation: [Int]) throws(ONNXError) -> [Int] {
        let auto = String(decoding: n.attr("auto_pad")?.s ?? [], as: UTF8.self)
        var pads = ints(n, "pads") ?? [0, 0, 0, 0]
        if auto == "SAME_UPPER" || auto == "SAME_LOWER" {
            pads = [0, 0, 0, 0]
            for k in 0..<2 {
                let size = input[2 + k], out = (size + stride[k] - 1) / stride[k]
                let total = max((out - 1) * stride[k] + (kernel[k] - 1) * dilation[k] + 1 - size, 0)
                pads[k] = auto == "SAME_UPPER" ? total / 2 : total - total / 2
                pads[k + 2] = total - pads[k]
            }
        } else if auto == "VALID" {
            pads = [0, 0, 0, 0]
        } else if !auto.isEmpty && auto != "NOTSET" {
            throw fail(n, "auto_pad '\(auto)' is not an ONNX value")
        }
        guard pads.count == 4 else { throw fail(n, "pads \(pads) are not 2-D [top, left, bottom, right]") }
        guard pads[0] == pads[2], pads[1] == pads[3] else {
            throw fail(n, "pads \(pads) are asymmetric; torch's Conv2d and pools pad both sides equally")
        }
        return [pads[0], pads[1]]
    }

    // MARK: layers

    /// A module ConvLens's export kept as an identity node in eval mode (Dropout, StochasticDepth,
    /// Identity), from the zoo constructor its `pkg.convlens.module` metadata names.
    mutating func keptModule(_ n: NodeProto, module: String, base: String) throws(ONNXError) {
        let (x, s) = try tensor(n, 0)
        let r = emit(MappedCall(module: module, functional: nil, baseName: base, inputs: [x], shape: s, node: n))
        try define(n, .tensor(r, s))
    }

    /// AdaptiveAvgPool2d with uneven bins as ConvLens's export writes it: Y = A_H · X · A_Wᵀ,
    /// two MatMuls by constant averaging matrices whose rows are torch's bins
    /// [⌊i·n/o⌋, ⌈(i+1)·n/o⌉). Returns false when the node is no step of that pattern.
    mutating func adaptivePool(_ n: NodeProto) throws(ONNXError) -> Bool {
        func isAveraging(_ m: ONNXTensorData, outputs o: Int, inputs i: Int, transposed: Bool) -> Bool {
            guard m.dims == (transposed ? [i, o] : [o, i]) else { return false }
            let v = m.floats
            for r in 0..<o {
                let start = r * i / o, end = ((r + 1) * i + o - 1) / o
                for c in 0..<i {
                    let want: Float = c >= start && c < end ? 1 / Float(end - start) : 0
                    if abs(v[transposed ? c * o + r : r * i + c] - want) > 1e-6 { return false }
                }
            }
            return true
        }
        guard n.input.count == 2 else { return false }
        switch (try value(n, 0), try value(n, 1)) {
        case (.constant(let a), .tensor(let x, let xs)) where xs.count == 4 && a.dims.count == 2
            && isAveraging(a, outputs: a.dims[0], inputs: xs[2], transposed: false):
            try define(n, .pending(.adaptiveRows(source: x, sourceShape: xs, node: n), [xs[0], xs[1], a.dims[0], xs[3]]))
            return true
        case (.pending(.adaptiveRows(let x, let xs, _), let s), .constant(let w)) where w.dims.count == 2
            && isAveraging(w, outputs: w.dims[1], inputs: xs[3], transposed: true):
            let out = [s[0], s[1], s[2], w.dims[1]]
            let r = emit(MappedCall(module: "AdaptiveAvgPool2d((\(out[2]), \(out[3])))", functional: "F.adaptive_avg_pool2d((\(out[2]), \(out[3])))",
                                    baseName: "adaptive_avg_pool2d", inputs: [x], shape: out, node: n))
            try define(n, .tensor(r, out))
            return true
        default:
            return false
        }
    }

    mutating func unary(_ n: NodeProto, module: String?, functional: String?, base: String) throws(ONNXError) {
        let (x, s) = try tensor(n, 0)
        let r = emit(MappedCall(module: module, functional: functional, baseName: base, inputs: [x], shape: s, node: n))
        try define(n, .tensor(r, s))
    }

    mutating func conv(_ n: NodeProto) throws(ONNXError) {
        let (x, xs) = try tensor(n, 0)
        let w = try constant(n, 1, what: "weight")
        let bias = hasInput(n, 2) ? try constant(n, 2, what: "bias") : nil
        guard xs.count == 4, w.dims.count == 4 else { throw fail(n, "is not a 2-D convolution (input \(xs), weight \(w.dims)); ConvLens has Conv2d") }
        let groups = Int(n.attr("group")?.i ?? 1)
        let kernel = ints(n, "kernel_shape") ?? [w.dims[2], w.dims[3]]
        let stride = ints(n, "strides") ?? [1, 1]
        let dilation = ints(n, "dilations") ?? [1, 1]
        guard kernel == [w.dims[2], w.dims[3]], stride.count == 2, dilation.count == 2, groups >= 1 else {
            throw fail(n, "kernel_shape \(kernel), strides \(stride) or dilations \(dilation) do not describe a 2-D convolution with weight \(w.dims)")
        }
        let pad = try padding(n, input: xs, kernel: kernel, stride: stride, dilation: dilation)
        let inC = w.dims[1] * groups, outC = w.dims[0]
        guard xs[1] == inC, outC % groups == 0 else { throw fail(n, "weight \(w.dims) with group \(groups) expects \(inC) input channels, the input has \(xs[1])") }
        if let bias, bias.count != outC { throw fail(n, "bias has \(bias.count) values for \(outC) output channels") }
        var out = [xs[0], outC]
        for k in 0..<2 {
            // floor((n + 2p − d(k−1) − 1)/s) + 1
            let v = (xs[2 + k] + 2 * pad[k] - dilation[k] * (kernel[k] - 1) - 1) / stride[k] + 1
            guard v >= 1 else { throw fail(n, "its window is larger than the padded input \(xs)") }
            out.append(v)
        }
        var text = "Conv2d(\(inC), \(outC), kernel_size=\(tupleText(kernel)), stride=\(tupleText(stride)), padding=\(tupleText(pad))"
        if dilation != [1, 1] { text += ", dilation=\(tupleText(dilation))" }
        if groups != 1 { text += ", groups=\(groups)" }
        text += ", bias=\(bias == nil ? "False" : "True"))"
        var call = MappedCall(module: text, functional: nil, baseName: "conv", inputs: [x], shape: out, node: n)
        call.params = [("weight", w)] + (bias.map { [("bias", $0)] } ?? [])
        call.fixedPath = modulePath(fromParameter: n, index: 1)
        call.classesArgument = (outC, "Conv2d(\(inC), \(outC),")
        let rule = n.meta("pkg.onnxscript.rewriter.rule_name") ?? ""
        let biasName = hasInput(n, 2) ? n.input[2] : ""
        if rule.contains("FuseBatchNorm") || (bias != nil && !biasName.hasSuffix(".bias")) || call.fixedPath == nil && n.input[1].hasPrefix("onnx::") {
            foldedConvs.append(calls.count)
        }
        let r = emit(call)
        try define(n, .tensor(r, out))
    }

    mutating func batchNorm(_ n: NodeProto) throws(ONNXError) {
        let (x, xs) = try tensor(n, 0)
        guard xs.count == 4 else { throw fail(n, "normalises a tensor of shape \(xs); ConvLens has BatchNorm2d") }
        if (n.attr("training_mode")?.i ?? 0) != 0 || n.output.dropFirst().contains(where: { !$0.isEmpty }) {
            throw fail(n, "training mode (running statistics as outputs) is not supported")
        }
        var params: [(String, ONNXTensorData)] = []
        for (i, name) in ["weight", "bias", "running_mean", "running_var"].enumerated() {
            let t = try constant(n, i + 1, what: name)
            guard t.count == xs[1] else { throw fail(n, "\(name) has \(t.count) values for \(xs[1]) channels") }
            params.append((name, t.reshaped([xs[1]])))
        }
        params.append(("num_batches_tracked", ONNXTensorData(dims: [], values: .int64([0]))))
        let eps = n.attr("epsilon")?.f ?? 1e-5
        // ONNX: running = momentum·running + (1 − momentum)·batch; torch's momentum is the other weight.
        let m = 1 - Double(n.attr("momentum")?.f ?? 0.9)
        let momentum = String(format: "%.5g", m)
        var call = MappedCall(module: "BatchNorm2d(\(xs[1]), eps=\(eps), momentum=\(momentum))", functional: nil, baseName: "batch_norm",
                              inputs: [x], shape: xs, node: n)
        call.params = params
        call.fixedPath = modulePath(fromParameter: n, index: 1)
        let r = emit(call)
        try define(n, .tensor(r, xs))
    }

    mutating func layerNorm(_ n: NodeProto) throws(ONNXError) {
        // torchvision's LayerNorm2d: permute to channels-last, normalise over C, permute back.
        var channelsLast: (source: Ref, shape: [Int], permute: NodeProto)? = nil
        if case .pending(.channelsLast(let src, let srcShape, let t), _)? = values[n.input[0]], axis(n, rank: 4, default: -1) == 3 {
            channelsLast = (src, srcShape, t)
        }
        let x: Ref, xs: [Int]
        if let c = channelsLast { (x, xs) = (c.source, [c.shape[0], c.shape[2], c.shape[3], c.shape[1]]) } else { (x, xs) = try tensor(n, 0) }
        let a = axis(n, rank: xs.count, default: -1)
        guard a >= 1, a < xs.count else { throw fail(n, "normalises from axis \(a) of \(xs)") }
        let normalized = Array(xs[a...])
        let scale = try constant(n, 1, what: "scale")
        let bias = hasInput(n, 2) ? try constant(n, 2, what: "bias") : nil
        let count = normalized.reduce(1, *)
        guard scale.count == count, bias?.count ?? count == count else { throw fail(n, "scale or bias do not match the normalised shape \(normalized)") }
        let eps = n.attr("epsilon")?.f ?? 1e-5
        let shapeText = normalized.count == 1 ? "(\(normalized[0]),)" : tupleText(normalized)
        var call = MappedCall(module: "LayerNorm(\(shapeText), eps=\(eps)\(bias == nil ? ", bias=False" : ""))", functional: nil,
                              baseName: "layer_norm", inputs: [x], shape: xs, node: n)
        call.params = [("weight", scale.reshaped(normalized))] + (bias.map { [("bias", $0.reshaped(normalized))] } ?? [])
        call.fixedPath = modulePath(fromParameter: n, index: 1)
        if let c = channelsLast {
            return try define(n, .pending(.channelsLastNorm(source: c.source, sourceShape: c.shape, permute: c.permute, norm: call), xs))
        }
        let r = emit(call)
        try define(n, .tensor(r, xs))
    }

    mutating func pool(_ n: NodeProto, max isMax: Bool) throws(ONNXError) {
        let (x, xs) = try tensor(n, 0)
        guard xs.count == 4 else { throw fail(n, "pools a tensor of shape \(xs); ConvLens has 2-D pools") }
        if n.output.count > 1, !n.output[1].isEmpty { throw fail(n, "its Indices output is not supported") }
        guard let kernel = ints(n, "kernel_shape"), kernel.count == 2 else { throw fail(n, "needs a 2-D kernel_shape") }
        let stride = ints(n, "strides") ?? [1, 1]
        let dilation = ints(n, "dilations") ?? [1, 1]
        let ceil = (n.attr("ceil_mode")?.i ?? 0) == 1
        let pad = try padding(n, input: xs, kernel: kernel, stride: stride, dilation: dilation)
        if !isMax, dilation != [1, 1] { throw fail(n, "dilated average pooling is not torch's AvgPool2d") }
        var out = [xs[0], xs[1]]
        for k in 0..<2 {
            let span = xs[2 + k] + 2 * pad[k] - dilation[k] * (kernel[k] - 1) - 1
            var v = (ceil ? (span + stride[k] - 1) / stride[k] : span / stride[k]) + 1
            // torch: the last window must start inside the input or its left padding.
            if ceil, (v - 1) * stride[k] >= xs[2 + k] + pad[k] { v -= 1 }
            guard span >= 0 else { throw fail(n, "its window is larger than the padded input \(xs)") }
            out.append(v)
        }
        var args = "kernel_size=\(pairText(kernel)), stride=\(pairText(stride)), padding=\(pairText(pad))"
        if isMax {
            args += ", dilation=\(pairText(dilation)), ceil_mode=\(ceil ? "True" : "False")"
        } else {
            if ceil { args += ", ceil_mode=True" }
            let include = (n.attr("count_include_pad")?.i ?? 0) == 1
            if !include && pad != [0, 0] { args += ", count_include_pad=False" }
        }
        let name = isMax ? "max_pool2d" : "avg_pool2d"
        let r = emit(MappedCall(module: "\(isMax ? "MaxPool2d" : "AvgPool2d")(\(args))", functional: "F.\(name)(\(args))", baseName: name,
                                inputs: [x], shape: out, node: n))
        try define(n, .tensor(r, out))
    }

    /// The local name of a constant that is a module's own parameter by its name
    /// (`features.1.0.layer_scale` → `layer_scale`; an initializer, or the Identity of one that
    /// the exporter shared between modules), or nil for the exporters' own names (`val_11`,
    /// `/features/…/Constant_output_0`, `onnx::Mul_12`).
    func ownParameterName(_ name: String) -> String? {
        guard !name.contains("/"), !name.contains(":"), let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let local = String(name[name.index(after: dot)...])
        guard let first = local.first, first.isLetter || first == "_", local.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
              !["weight", "bias", "running_mean", "running_var"].contains(local) else { return nil }
        return local
    }

    mutating func arithmetic(_ n: NodeProto) throws(ONNXError) {
        let op = n.opType
        let a = try value(n, 0), c = try value(n, 1)
        if case .constant(let p) = a, case .constant(let q) = c {
            guard let r = ConstantMath.binary(p, q, op) else { throw fail(n, "cannot fold \(op) of constants \(p.dims) and \(q.dims)") }
            return try define(n, .constant(r))
        }
        func near(_ v: ImportValue, _ x: Double) -> Bool {
            if case .constant(let t) = v, let s = t.scalarValue { return abs(s - x) < 1e-4 * max(1, abs(x)) }
            return false
        }
        let sqrt2 = 2.0.squareRoot()
        switch (op, a, c) {
        // GELU's Erf form, as torch writes it: x · 0.5 · (1 + erf(x / √2)) in either order.
        case ("Div", .tensor(let x, let s), _) where near(c, sqrt2):
            return try define(n, .pending(.gelu(source: x, step: 1, node: n), s))
        case ("Mul", .tensor(let x, let s), _) where near(c, 1 / sqrt2):
            return try define(n, .pending(.gelu(source: x, step: 1, node: n), s))
        case ("Add", .pending(.gelu(let x, 2, let st), let s), _) where near(c, 1),
             ("Add", _, .pending(.gelu(let x, 2, let st), let s)) where near(a, 1):
            return try define(n, .pending(.gelu(source: x, step: 3, node: st), s))
        case ("Mul", .pending(.gelu(let x, 3, let st), let s), .tensor(let y, _)) where x == y,
             ("Mul", .tensor(let y, _), .pending(.gelu(let x, 3, let st), let s)) where x == y:
            return try define(n, .pending(.gelu(source: x, step: 4, node: st), s))
        case ("Mul", .pending(.gelu(let x, 4, _), let s), _) where near(c, 0.5),
             ("Mul", _, .pending(.gelu(let x, 4, _), let s)) where near(a, 0.5):
            let r = emit(MappedCall(module: "GELU()", functional: nil, baseName: "gelu", inputs: [x], shape: s, node: n))
            return try define(n, .tensor(r, s))
        case ("Mul", .tensor(let x, let s), _) where near(c, 0.5):
            return try define(n, .pending(.gelu(source: x, step: 5, node: n), s))
        // …or ½ · (1 + erf(x / √2)) first, then x times that (the dynamo exporter's order).
        case ("Mul", .pending(.gelu(let x, 3, let st), let s), _) where near(c, 0.5),
             ("Mul", _, .pending(.gelu(let x, 3, let st), let s)) where near(a, 0.5):
            return try define(n, .pending(.gelu(source: x, step: 6, node: st), s))
        case ("Mul", .tensor(let y, _), .pending(.gelu(let x, 6, _), let s)) where x == y,
             ("Mul", .pending(.gelu(let x, 6, _), let s), .tensor(let y, _)) where x == y:
            let r = emit(MappedCall(module: "GELU()", functional: nil, baseName: "gelu", inputs: [x], shape: s, node: n))
            return try define(n, .tensor(r, s))
        case ("Mul", .pending(.gelu(let x, 5, _), let s), .pending(.gelu(let y, 3, _), _)) where x == y,
             ("Mul", .pending(.gelu(let y, 3, _), _), .pending(.gelu(let x, 5, _), let s)) where x == y:
            let r = emit(MappedCall(module: "GELU()", functional: nil, baseName: "gelu", inputs: [x], shape: s, node: n))
            return try define(n, .tensor(r, s))
        // MatMul + bias = Linear.
        case ("Add", .pending(.matmul(let x, let w, let mm), let s), .constant(let bias)),
             ("Add", .constant(let bias), .pending(.matmul(let x, let w, let mm), let s)):
            guard bias.count == w.dims[1] else { throw fail(n, "adds \(bias.dims) to a MatMul of \(w.dims[1]) outputs") }
            let r = try emitLinear(mm, source: x, weight: w, transposed: false, bias: bias.reshaped([bias.count]), shape: s)
            return try define(n, .tensor(r, s))
        default: break
        }
        // A product with a tensor the module owns (ConvNeXt's layer_scale): a Parameter and a mul.
        if op == "Mul" {
            for (k, other) in [(0, 1), (1, 0)] {
                guard case .constant(let t) = (k == 0 ? a : c), t.count > 1, let local = ownParameterName(n.input[k]) else { continue }
                let (x, xs) = try tensor(n, other)
                guard let out = ConstantMath.broadcast(xs, t.dims), out == xs else { throw fail(n, "multiplies \(xs) by a parameter of shape \(t.dims) that does not broadcast to it") }
                var p = MappedCall(module: nil, functional: "Parameter(\(t.dims.map(String.init).joined(separator: ", ")))", baseName: local,
                                   inputs: [], shape: t.dims, node: n)
                p.params = [("", t)]
                p.ownParameter = true
                let pr = emit(p)
                let r = emit(MappedCall(module: nil, functional: "mul", baseName: "mul", inputs: k == 0 ? [pr, x] : [x, pr], shape: out, node: n))
                return try define(n, .tensor(r, out))
            }
        }
        if case .constant = a { throw fail(n, "\(op) of a constant and a computed tensor is not a ConvLens layer") }
        if case .constant = c { throw fail(n, "\(op) of a computed tensor and a constant is not a ConvLens layer") }
        guard op == "Add" || op == "Mul" else { throw fail(n, "\(op) of two computed tensors is not a ConvLens layer (add and mul are)") }
        // SiLU written out: x · sigmoid(x), the sigmoid read by this product alone.
        if op == "Mul", case .tensor(let p, _) = a, case .tensor(let q, _) = c {
            for (s, x, name) in [(p, q, n.input[0]), (q, p, n.input[1])] where s >= 0 && calls[s].baseName == "sigmoid" && calls[s].inputs == [x] && readers[name] == 1 {
                calls[s].module = "SiLU()"
                calls[s].baseName = "silu"
                calls[s].node = n
                return try define(n, .tensor(s, calls[s].shape))
            }
        }
        let (x, xs) = try tensor(n, 0)
        let (y, ys) = try tensor(n, 1)
        guard let out = ConstantMath.broadcast(xs, ys) else { throw fail(n, "shapes \(xs) and \(ys) do not broadcast") }
        let r = emit(MappedCall(module: nil, functional: op == "Add" ? "add" : "mul", baseName: op == "Add" ? "add" : "mul",
                                inputs: [x, y], shape: out, node: n))
        try define(n, .tensor(r, out))
    }

    mutating func reshape(_ n: NodeProto) throws(ONNXError) {
        let target = try constant(n, 1, what: "shape").int64s
        let inShape = try shape(n, 0)
        let allowZero = (n.attr("allowzero")?.i ?? 0) == 1
        var dims: [Int] = []
        var infer: Int? = nil
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < inShape.count else { throw fail(n, "shape \(target) copies dimension \(i) the input \(inShape) lacks") }
                dims.append(inShape[i])
            } else if d == -1 {
                guard infer == nil else { throw fail(n, "shape \(target) has two -1s") }
                infer = i
                dims.append(1)
            } else {
                guard d >= 0 else { throw fail(n, "shape \(target) has a negative size") }
                dims.append(Int(d))
            }
        }
        let total = inShape.reduce(1, *), known = dims.reduce(1, *)
        if let infer {
            guard known > 0, total % known == 0 else { throw fail(n, "cannot reshape \(inShape) to \(target)") }
            dims[infer] = total / known
        }
        guard dims.reduce(1, *) == total else { throw fail(n, "cannot reshape \(inShape) (\(total) elements) to \(dims)") }
        switch try value(n, 0) {
        case .constant(let c): try define(n, .constant(c.reshaped(dims)))
        case .pending(.shuffled(let src, let srcShape, let g), _) where dims == srcShape:
            let r = emit(MappedCall(module: nil, functional: "channel_shuffle(\(g))", baseName: "channel_shuffle",
                                    inputs: [src], shape: dims, node: n))
            try define(n, .tensor(r, dims))
        case .pending(.view(let src, let srcShape, _), _):
            try define(n, srcShape == dims ? .tensor(src, dims) : .pending(.view(source: src, sourceShape: srcShape, node: n), dims))
        default:
            let (x, xs) = try tensor(n, 0)
            try define(n, xs == dims ? .tensor(x, xs) : .pending(.view(source: x, sourceShape: xs, node: n), dims))
        }
    }

    mutating func transpose(_ n: NodeProto) throws(ONNXError) {
        let s = try shape(n, 0)
        let perm = ints(n, "perm") ?? Array((0..<s.count).reversed())
        guard perm.count == s.count, Set(perm) == Set(0..<s.count) else { throw fail(n, "perm \(perm) is not a permutation of \(s.count) axes") }
        let out = perm.map { s[$0] }
        switch try value(n, 0) {
        case .pending(.view(let src, let srcShape, _), let vs)
            where vs.count == 5 && srcShape.count == 4 && perm == [0, 2, 1, 3, 4]
                && [vs[0], vs[1] * vs[2], vs[3], vs[4]] == srcShape:
            try define(n, .pending(.shuffled(source: src, sourceShape: srcShape, groups: vs[1]), out))
        case .tensor(let x, let xs) where xs.count == 4 && perm == [0, 2, 3, 1] && readers[n.output[0]] == 1:
            try define(n, .pending(.channelsLast(source: x, sourceShape: xs, node: n), out))
        case .pending(.channelsLastNorm(let src, let srcShape, let permute, var norm), _)
            where perm == [0, 3, 1, 2] && scope(of: n) == scope(of: norm.node) && scope(of: permute) == scope(of: norm.node):
            // One module (LayerNorm2d): the permutes are its own, not Permute modules beside it.
            norm.module = norm.module.map { "LayerNorm2d" + $0.dropFirst("LayerNorm".count) }
            norm.baseName = "layer_norm2d"
            norm.inputs = [src]
            norm.shape = srcShape
            try define(n, .tensor(emit(norm), srcShape))
        case .constant(let t) where t.dims.count == 2 && perm == [1, 0]:
            // A Linear's weight the exporter left as W and transposes for MatMul.
            let (rows, cols) = (t.dims[0], t.dims[1]), v = t.floats
            var out = [Float](repeating: 0, count: v.count)
            for i in 0..<rows { for j in 0..<cols { out[j * rows + i] = v[i * cols + j] } }
            try define(n, .constant(ONNXTensorData(dims: [cols, rows], values: .float(out))))
        case .constant:
            throw fail(n, "transposing a constant other than a matrix is not supported")
        default:
            let (x, _) = try tensor(n, 0)
            let dims = "[\(perm.map(String.init).joined(separator: ", "))]"
            let r = emit(MappedCall(module: "Permute(\(dims))", functional: "torch.permute(\(dims))", baseName: "permute",
                                    inputs: [x], shape: out, node: n))
            try define(n, .tensor(r, out))
        }
    }

    mutating func concat(_ n: NodeProto) throws(ONNXError) {
        let parts = try (0..<n.input.count).map { i throws(ONNXError) in try value(n, i) }
        let rank = try shape(n, 0).count
        let axis = self.axis(n, rank: rank, default: 0)
        if parts.allSatisfy({ if case .constant = $0 { true } else { false } }) {
            let cs = parts.map { v -> ONNXTensorData in if case .constant(let c) = v { c } else { fatalError("unreachable") } }
            guard let r = ConstantMath.concat(cs, axis: axis) else { throw fail(n, "cannot fold Concat of \(cs.map(\.dims))") }
            return try define(n, .constant(r))
        }
        var refs: [Ref] = []
        var out = try shape(n, 0)
        out[axis] = 0
        for i in 0..<n.input.count {
            let (r, s) = try tensor(n, i)
            guard s.count == rank else { throw fail(n, "concatenates tensors of different ranks") }
            refs.append(r)
            out[axis] += s[axis]
        }
        let r = emit(MappedCall(module: nil, functional: "torch.cat(\(axis))", baseName: "cat", inputs: refs, shape: out, node: n))
        try define(n, .tensor(r, out))
    }

    /// One piece of an equal split along `axis`: `torch.chunk(k, dim=axis)[i]`.
    mutating func chunk(_ n: NodeProto, source x: Ref, shape xs: [Int], axis: Int, pieces k: Int, index i: Int, output: Int) throws(ONNXError) {
        var out = xs
        out[axis] = xs[axis] / k
        let r = emit(MappedCall(module: nil, functional: "torch.chunk(\(k), dim=\(axis))[\(i)]", baseName: "chunk",
                                inputs: [x], shape: out, node: n))
        try define(n, .tensor(r, out), output: output)
    }

    mutating func split(_ n: NodeProto) throws(ONNXError) {
        let (x, xs) = try tensor(n, 0)
        let axis = self.axis(n, rank: xs.count, default: 0)
        guard axis >= 0, axis < xs.count else { throw fail(n, "axis out of range") }
        let k = n.output.count
        var sizes: [Int]
        if hasInput(n, 1) { sizes = try constant(n, 1, what: "split").int64s.map { Int($0) } }
        else if let s = ints(n, "split") { sizes = s }
        else { sizes = [Int](repeating: xs[axis] / max(k, 1), count: k) }
        guard sizes.count == k, Set(sizes).count == 1, sizes.reduce(0, +) == xs[axis] else {
            throw fail(n, "splits \(xs[axis]) into \(sizes); ConvLens maps equal pieces (torch.chunk)")
        }
        for i in 0..<k where used.contains(n.output[i]) {
            try chunk(n, source: x, shape: xs, axis: axis, pieces: k, index: i, output: i)
        }
    }

    mutating func slice(_ n: NodeProto) throws(ONNXError) {
        let starts = try constant(n, 1, what: "starts").int64s
        let ends = try constant(n, 2, what: "ends").int64s
        let s = try shape(n, 0)
        let axes = hasInput(n, 3) ? try constant(n, 3, what: "axes").int64s.map { Int($0 < 0 ? $0 + Int64(s.count) : $0) } : Array(0..<starts.count)
        let steps = hasInput(n, 4) ? try constant(n, 4, what: "steps").int64s : [Int64](repeating: 1, count: starts.count)
        if case .constant(let c) = try value(n, 0) {
            guard let r = ConstantMath.slice(c, starts: starts, ends: ends, axes: axes, steps: steps) else { throw fail(n, "cannot fold this Slice") }
            return try define(n, .constant(r))
        }
        let (x, xs) = try tensor(n, 0)
        guard axes.count == 1, steps == [1], let axis = axes.first, axis < xs.count else {
            throw fail(n, "slices axes \(axes) with steps \(steps); ConvLens maps one equal piece along one axis (torch.chunk)")
        }
        let d = Int64(xs[axis])
        func clamp(_ v: Int64) -> Int { Int(min(max(v < 0 ? v + d : v, 0), d)) }
        let lo = clamp(starts[0]), hi = clamp(ends[0]), len = hi - lo
        guard len > 0, xs[axis] % len == 0, lo % len == 0 else {
            throw fail(n, "takes [\(lo), \(hi)) of \(xs[axis]) along axis \(axis); ConvLens maps equal pieces (torch.chunk)")
        }
        try chunk(n, source: x, shape: xs, axis: axis, pieces: xs[axis] / len, index: lo / len, output: 0)
    }
}
