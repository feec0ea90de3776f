import ConvLensEngine
import ConvLensGraph
import Foundation

/// `convlens eval`: test accuracy, per-class accuracy and the confusion matrix of saved weights.
public struct Evaluation: Sendable {
    public var accuracy: Double
    public var loss: Double
    /// confusion[true][predicted]
    public var confusion: [[Int]]
    public var input: String

    public var perClass: [Double] {
        confusion.enumerated().map { (i, row) in
            let n = row.reduce(0, +)
            return n == 0 ? .nan : Double(row[i]) / Double(n)
        }
    }

    /// Loads weights from a `weights.safetensors`, a training `checkpoint.safetensors` (its
    /// optimizer state is ignored) or any safetensors file with the model's state_dict.
    public static func run(model: String, weights: String, data: String?, arguments: [String], imageSize: Int?,
                           batchSize: Int = 256, limit: Int? = nil) throws -> Evaluation {
        let st = try SafeTensors.read(weights)
        // Integer tensors (num_batches_tracked, I64 as torch saves it) are read as floats.
        let w = try Engine.stateDict(st).filter { !$0.key.hasPrefix("optimizer.") }
        let file = try Registry.load(model)
        let config = try TrainConfig.resolve(model: model, file: file, data: data, epochs: 1, batchSize: batchSize, lr: 1, optimizer: "sgd",
                                             weightDecay: 0, seed: 1, limit: limit, imageSize: imageSize, initialization: "default", arguments: arguments)
        let trainer: Trainer
        do {
            trainer = try Trainer(config: config, directory: "", resume: false, progress: Progress(quiet: true), initialWeights: w)
        } catch let e as EngineError {
            throw DataError(weights, e.description)
        }
        let (loss, acc, predictions) = try trainer.evaluateWithPredictions()
        let k = trainer.data.numClasses
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (i, p) in predictions.enumerated() { confusion[Int(trainer.data.test.labels[i])][p] += 1 }
        return Evaluation(accuracy: acc, loss: loss, confusion: confusion, input: trainer.adapter.description)
    }

    /// Fashion-MNIST's class names, used when the data has its ten classes.
    public static let fashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    public func text(classNames: [String]?) -> String {
        let k = confusion.count
        let names = (classNames?.count == k ? classNames! : (0..<k).map { "class \($0)" })
        var s = String(format: "test accuracy %.4f (%d images), mean loss %.4f\ninput: %@\n\nper class:\n", accuracy, confusion.joined().reduce(0, +), loss, input)
        let w = names.map(\.count).max() ?? 5
        for (i, n) in names.enumerated() { s += "  " + n.padding(toLength: w, withPad: " ", startingAt: 0) + String(format: "  %.4f\n", perClass[i]) }
        s += "\nconfusion (rows: true class, columns: predicted):\n" + String(repeating: " ", count: w + 2)
        let cw = max(5, String(confusion.joined().max() ?? 0).count + 1)
        for j in 0..<k { s += String(repeating: " ", count: cw - String(j).count) + String(j) }
        s += "\n"
        for (i, row) in confusion.enumerated() {
            s += "  " + names[i].padding(toLength: w, withPad: " ", startingAt: 0)
            for v in row { s += String(repeating: " ", count: cw - String(v).count) + String(v) }
            s += "\n"
        }
        return s
    }
}
