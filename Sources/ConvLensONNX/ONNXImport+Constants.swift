/// Static evaluation of the small integer and float tensors the exporters compute shapes with
/// (Shape → Gather → Unsqueeze → Concat → Reshape): every shape is known, so these fold away.

extension ONNXTensorData {
    static func ints(_ v: [Int64], dims: [Int]? = nil) -> ONNXTensorData {
        ONNXTensorData(dims: dims ?? [v.count], values: .int64(v))
    }

    static func scalar(_ f: Float) -> ONNXTensorData { ONNXTensorData(dims: [], values: .float([f])) }

    var isInteger: Bool { if case .int64 = values { true } else { false } }

    /// The single value of a one-element tensor.
    var scalarValue: Double? {
        guard count == 1 else { return nil }
        switch values {
        case .float(let v): return Double(v[0])
        case .double(let v): return v[0]
        case .int64(let v): return Double(v[0])
        case .bool(let v): return v[0] ? 1 : 0
        }
    }

    func reshaped(_ dims: [Int]) -> ONNXTensorData { ONNXTensorData(dims: dims, values: values) }
}

enum ConstantMath {
    /// numpy broadcasting of two shapes; nil when they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out: [Int] = []
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(max(x, y))
        }
        return out
    }

    /// The flat index into a tensor of shape `dims` for output position `idx` of shape `out`.
    static func source(_ idx: [Int], _ dims: [Int], _ out: [Int]) -> Int {
        var flat = 0
        let off = out.count - dims.count
        for (k, d) in dims.enumerated() {
            flat = flat * d + (d == 1 ? 0 : idx[k + off])
        }
        return flat
    }

    static func indices(_ shape: [Int]) -> [[Int]] {
        let total = shape.reduce(1, *)
        var result: [[Int]] = []
        result.reserveCapacity(total)
        var idx = [Int](repeating: 0, count: shape.count)
        for _ in 0..<total {
            result.append(idx)
            var k = shape.count - 1
            while k >= 0 {
                idx[k] += 1
                if idx[k] < shape[k] { break }
                idx[k] = 0
                k -= 1
            }
        }
        return result
    }

    /// Elementwise a ∘ b with broadcasting; integers stay integers (Div truncates, as ONNX).
    static func binary(_ a: ONNXTensorData, _ b: ONNXTensorData, _ op: String) -> ONNXTensorData? {
        guard let out = broadcast(a.dims, b.dims), out.reduce(1, *) <= 1 << 20 else { return nil }
        let idx = indices(out)
        if a.isInteger && b.isInteger {
            let x = a.int64s, y = b.int64s
            var r: [Int64] = []
            for i in idx {
                let p = x[source(i, a.dims, out)], q = y[source(i, b.dims, out)]
                switch op {
                case "Add": r.append(p &+ q)
                case "Sub": r.append(p &- q)
                case "Mul": r.append(p &* q)
                case "Div":
                    guard q != 0, !(p == .min && q == -1) else { return nil }
                    r.append(p / q)
                default: return nil
                }
            }
            return ONNXTensorData(dims: out, values: .int64(r))
        }
        let x = a.floats, y = b.floats
        var r: [Float] = []
        for i in idx {
            let p = x[source(i, a.dims, out)], q = y[source(i, b.dims, out)]
            switch op {
            case "Add": r.append(p + q)
            case "Sub": r.append(p - q)
            case "Mul": r.append(p * q)
            case "Div": r.append(p / q)
            default: return nil
            }
        }
        return ONNXTensorData(dims: out, values: .float(r))
    }

    /// numpy.take along `axis`.
    static func gather(_ data: ONNXTensorData, _ indices: ONNXTensorData, axis: Int) -> ONNXTensorData? {
        guard axis >= 0, axis < data.dims.count else { return nil }
        let n = data.dims[axis]
        let outer = data.dims[..<axis].reduce(1, *), inner = data.dims[(axis + 1)...].reduce(1, *)
        let ids = indices.int64s.map { Int($0 < 0 ? $0 + Int64(n) : $0) }
        guard ids.allSatisfy({ $0 >= 0 && $0 < n }) else { return nil }
        let outDims = Array(data.dims[..<axis]) + indices.dims + Array(data.dims[(axis + 1)...])
        func pick<T>(_ v: [T]) -> [T] {
            var r: [T] = []
            for o in 0..<outer { for i in ids { for k in 0..<inner { r.append(v[(o * n + i) * inner + k]) } } }
            return r
        }
        switch data.values {
        case .int64(let v): return ONNXTensorData(dims: outDims, values: .int64(pick(v)))
        case .float(let v): return ONNXTensorData(dims: outDims, values: .float(pick(v)))
        case .double(let v): return ONNXTensorData(dims: outDims, values: .double(pick(v)))
        case .bool(let v): return ONNXTensorData(dims: outDims, values: .bool(pick(v)))
        }
    }

    /// Concatenation along `axis`.
    static func concat(_ parts: [ONNXTensorData], axis: Int) -> ONNXTensorData? {
        guard let first = parts.first, axis >= 0, axis < first.dims.count else { return nil }
        for p in parts where p.dims.count != first.dims.count { return nil }
        let outer = first.dims[..<axis].reduce(1, *), inner = first.dims[(axis + 1)...].reduce(1, *)
        var dims = first.dims
        dims[axis] = parts.map { $0.dims[axis] }.reduce(0, +)
        if parts.allSatisfy(\.isInteger) {
            var r: [Int64] = []
            for o in 0..<outer { for p in parts { let v = p.int64s, n = p.dims[axis] * inner; r.append(contentsOf: v[(o * n)..<((o + 1) * n)]) } }
            return ONNXTensorData(dims: dims, values: .int64(r))
        }
        var r: [Float] = []
        for o in 0..<outer { for p in parts { let v = p.floats, n = p.dims[axis] * inner; r.append(contentsOf: v[(o * n)..<((o + 1) * n)]) } }
        return ONNXTensorData(dims: dims, values: .float(r))
    }

    /// ONNX Slice of a constant (any axes; steps ±1 or more).
    static func slice(_ data: ONNXTensorData, starts: [Int64], ends: [Int64], axes: [Int], steps: [Int64]) -> ONNXTensorData? {
        var ranges = data.dims.map { Array(0..<$0) }
        for (k, axis) in axes.enumerated() {
            guard axis >= 0, axis < data.dims.count, k < starts.count, k < ends.count else { return nil }
            let n = Int64(data.dims[axis])
            let step = k < steps.count ? steps[k] : 1
            guard step != 0 else { return nil }
            func clamp(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { min(max(v < 0 ? v + n : v, lo), hi) }
            var picked: [Int] = []
            if step > 0 {
                var i = clamp(starts[k], 0, n)
                let e = clamp(ends[k], 0, n)
                while i < e { picked.append(Int(i)); i += step }
            } else {
                var i = clamp(starts[k], 0, n - 1)
                let e = clamp(ends[k], -1, n - 1)
                while i > e { picked.append(Int(i)); i += step }
            }
            ranges[axis] = picked
        }
        let outDims = ranges.map(\.count)
        var strides = [Int](repeating: 1, count: data.dims.count)
        for k in stride(from: data.dims.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * data.dims[k + 1] }
        let flat = indices(outDims).map { idx in zip(idx.indices, idx).reduce(0) { $0 + ranges[$1.0][$1.1] * strides[$1.0] } }
        switch data.values {
        case .int64(let v): return ONNXTensorData(dims: outDims, values: .int64(flat.map { v[$0] }))
        case .float(let v): return ONNXTensorData(dims: outDims, values: .float(flat.map { v[$0] }))
        case .double(let v): return ONNXTensorData(dims: outDims, values: .double(flat.map { v[$0] }))
        case .bool(let v): return ONNXTensorData(dims: outDims, values: .bool(flat.map { v[$0] }))
        }
    }
}
