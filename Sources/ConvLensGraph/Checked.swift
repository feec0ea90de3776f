/// Bounds and overflow-checked arithmetic for every size and count ConvLens derives.
///
/// Every count is a product of sizes (elements, parameters, MACs, FLOPs, bytes), and Swift traps on
/// overflow: a zoo file, `--input` or `--arg` with numbers near 2^63 would crash ConvLens instead of
/// being refused. The graph builder therefore checks, with the limits below, everything the views
/// later compute with plain arithmetic:
/// - every integer a layer is given (channels, features, kernel, stride, padding, dilation, groups)
///   is at most `maxArgument`, so the shape formulas (d·(k−1)+1, n + 2p) cannot overflow;
/// - every tensor (the input, each node's output, each parameter and buffer) has at most
///   `maxElements` elements, so `numel`, bytes and the per-element counts fit;
/// - each call's MACs and operation counts, computed by the kinds with the saturating helpers here,
///   and their totals over the graph stay below `maxCount`, so the analyzer's sums fit.
public enum Checked {
    /// 2^31 − 1 (Int32.max): no axis, kernel, stride, padding, dilation, channel or feature count of
    /// a network that can run is larger (one such axis with any other axis of size 2 is already
    /// 16 GiB of float32), and with it the window arithmetic stays far below 2^63.
    public static let maxArgument = Int(Int32.max)
    /// 2^40 elements: a float32 tensor of 4 TiB, more than any machine ConvLens runs on can hold.
    public static let maxElements = 1 << 40
    /// 2^56 elements over all of a graph's tensors together: the memory totals (×8 bytes, training's
    /// gradients and optimizer state) stay below 2^63.
    public static let maxTotalElements = 1 << 56
    /// 2^62: per-call MACs and operation counts, and their totals over the graph.
    public static let maxCount = 1 << 62

    /// a·b, nil on overflow.
    public static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }
    /// a + b, nil on overflow.
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }
    /// The product of sizes, nil on overflow.
    public static func product(_ xs: [Int]) -> Int? {
        var p = 1
        for x in xs {
            guard let r = mul(p, x) else { return nil }
            p = r
        }
        return p
    }

    /// Saturating product of non-negative counts: `Int.max` when it overflows. The builder refuses any
    /// count ≥ `maxCount`, so a saturated value never reaches a view.
    public static func satMul(_ xs: Int...) -> Int {
        var p = 1
        for x in xs {
            guard let r = mul(p, x) else { return Int.max }
            p = r
        }
        return p
    }
    /// Saturating sum of non-negative counts.
    public static func satAdd(_ xs: Int...) -> Int {
        var s = 0
        for x in xs {
            guard let r = add(s, x) else { return Int.max }
            s = r
        }
        return s
    }

    /// 2^40 written for messages.
    static func power(_ v: Int) -> String { "2^\(Int.bitWidth - 1 - v.leadingZeroBitCount)" }
}
