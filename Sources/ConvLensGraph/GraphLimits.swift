import Foundation

/// The graph builder's checks that every count the views derive fits in an Int (see `Checked`).
enum GraphLimits {
    /// Why a tensor of this shape cannot be handled, or nil.
    /// `what` is spelled only when the check fails (the builder calls this for every tensor).
    static func tooLarge(_ shape: [Int], _ what: @autoclosure () -> String) -> String? {
        guard let n = Checked.product(shape), n <= Checked.maxElements else {
            let approx = shape.reduce(1.0) { $0 * Double($1) }
            return "\(what()) \(ShapeCheck.fmt(shape)) would hold \(approx.formatted3) elements, more than ConvLens handles (2^40, a 4 TiB float32 tensor)"
        }
        return nil
    }

    /// A count is representable: an Int below the limit, or a finite Double below it.
    static func fits(_ v: Int) -> Bool { v >= 0 && v < Checked.maxCount }
    static func fits(_ v: Double) -> Bool { v.isFinite && v >= 0 && v < Double(Checked.maxCount) }

    /// Why one call's MACs or operation counts (in this mode) overflow, or nil. The kinds compute
    /// them with `Checked.satMul`/`satAdd`, so an overflow shows as a saturated value here.
    static func countProblem(_ n: borrowing GraphNode, macs m: Int, _ o: OperationCounts) -> String? {
        guard fits(m), fits(o.flops), fits(o.fvcore), fits(o.thop), fits(o.ptflopsModule), fits(o.ptflopsFunctional) else {
            return "\(n.layer.className)'s operation count for input \(ShapeCheck.fmt(n.inputShapes.first ?? [])) overflows (more than 2^62)"
        }
        return nil
    }

    /// Every node's counts in both modes fit, and the graph's totals (elements of all tensors, MACs,
    /// operation counts) stay below the limits, so the analyzer's, the summary's and the diagram's
    /// sums fit; the error names the node where a count or a total passes its limit.
    /// `parameterElements` is the elements of every parameter and buffer (≤ 2^40 each), summed by
    /// the builder as it registered them; `parameterProblem` the module where that sum passed 2^56.
    static func checkTotals(_ g: ModelGraph, parameterElements: Int, parameterProblem: ModuleEntry?) throws(ZooError) {
        if let m = parameterProblem {
            throw ZooError(.shape, "the model's parameters and buffers hold more than 2^56 elements together, more than ConvLens handles", at: m.location, module: m.path)
        }
        var elements = g.inputShape.reduce(1, *) + parameterElements
        var macs = 0, flops = 0, fvcore = 0
        var thop = 0.0, ptflops = 0.0
        for i in g.nodes.indices {
            // Read in place (a copy of the node would retain its eight arrays and strings).
            let spec = g.nodes[i].spec
            var call = g.nodes[i].call(training: false)
            let e = spec.operations(call)
            if let p = countProblem(g.nodes[i], macs: spec.macs(call), e) { throw ZooError(.shape, p, at: g.nodes[i].location, module: g.nodes[i].name) }
            call.training = true
            let o = spec.operations(call), m = spec.macs(call)
            if let p = countProblem(g.nodes[i], macs: m, o) { throw ZooError(.shape, p, at: g.nodes[i].location, module: g.nodes[i].name) }
            elements += call.outputElements
            macs += m; flops += o.flops; fvcore += o.fvcore
            thop += o.thop; ptflops += o.ptflopsModule + o.ptflopsFunctional
            if elements > Checked.maxTotalElements {
                throw ZooError(.shape, "the model's tensors up to here hold more than 2^56 elements together, more than ConvLens handles", at: g.nodes[i].location, module: g.nodes[i].name)
            }
            guard fits(macs), fits(flops), fits(fvcore), fits(thop), fits(ptflops) else {
                throw ZooError(.shape, "the model's total operation count passes 2^62 here, more than ConvLens handles", at: g.nodes[i].location, module: g.nodes[i].name)
            }
        }
    }
}

extension Double {
    /// 1.23e+19-style text for counts too large to print exactly.
    var formatted3: String {
        guard self >= 1e15 else { return String(Int(self)) }
        let e = Int(self.isFinite ? log10(self) : 308)
        let m = self / pow(10, Double(e))
        return "\(Double(Int(m * 100)) / 100)e\(e)"
    }
}
