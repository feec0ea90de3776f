extension Engine {
    /// Mean cross-entropy of the last forward pass against class `targets`, and the gradients to
    /// feed `backward`: (loss, ∂loss/∂logits, ∂loss/∂aux logits). With auxiliary heads (train mode)
    /// the loss is torchvision's recipe: main + auxLossWeight·Σ aux (0.3 per head for GoogLeNet,
    /// 0.4 for Inception3); `mainLoss` is the main head's alone.
    public func crossEntropy(targets: [Int]) throws(EngineError) -> (loss: Double, mainLoss: Double, dLogits: Tensor, auxGradients: [Tensor]) {
        guard graph.output < outputs.count, let logits = outputs[graph.output] else { throw EngineError("crossEntropy needs a forward pass first") }
        let (rows, classes) = (logits.shape[0], logits.count / max(logits.shape[0], 1))
        guard targets.count == rows else { throw EngineError("target has \(targets.count) entries for a batch of \(rows)") }
        if let bad = targets.first(where: { $0 < 0 || $0 >= classes }) {
            throw EngineError("target class \(bad) is out of range for \(classes) classes")
        }
        let d = Tensor(zeros: logits.shape)
        let main = crossEntropyForwardBackward(d.data, logits.data, targets: targets, rows: rows, classes: classes)
        var loss = main
        var aux: [Tensor] = []
        for a in graph.auxOutputs {
            guard let t = outputs[a] else { aux.append(Tensor(zeros: graph.nodes[a].outputShape)); continue }
            let da = Tensor(zeros: t.shape)
            loss += Double(auxLossWeight) * crossEntropyForwardBackward(da.data, t.data, targets: targets, rows: rows, classes: classes, scale: auxLossWeight)
            aux.append(da)
        }
        return (loss, main, d, aux)
    }
}
