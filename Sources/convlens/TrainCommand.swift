import ArgumentParser
import ConvLensEngine
import ConvLensGraph
import ConvLensTrain
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on Fashion-MNIST (default) or any MNIST-format IDX folder.",
        discussion: """
        Defaults come from the model's zoo file (for convnet: the seed's recipe — N(0, 0.01) weights, zero biases, \
        SGD lr 0.05, batch 128, 10 epochs, seed 1). Inputs are adapted to the model: LeNet5 pads 28×28 to 32×32, \
        3-channel models get the grey channel replicated, networks that need larger inputs are resized (or use \
        --image-size); num_classes follows the data. After every epoch: test evaluation, a row in metrics.csv and an \
        atomic checkpoint.safetensors; at the end run.json and curves.svg.
        """)

    @Argument(help: "A registry model or a zoo file.") var model: String
    @Option(help: "An MNIST-format IDX folder (default: Debian's Fashion-MNIST, /usr/share/datasets/fashion-mnist).") var data: String?
    @Option(help: "Epochs (default from the zoo file, else 10).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Mini-batch size (default from the zoo file, else 128).") var batchSize: Int?
    @Option(help: "Learning rate (default from the zoo file, else 0.05).") var lr: Double?
    @Option(help: "sgd, momentum (0.9) or adam.") var optimizer: String?
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay added to the gradients.") var weightDecay: Double?
    @Option(help: "Seed for initialisation, shuffling and dropout.") var seed: UInt64?
    @Option(help: "Use only the first N training and N test images.") var limit: Int?
    @Option(name: .customLong("image-size"), help: "Resize images to S×S.") var imageSize: Int?
    @Option(name: .customLong("init"), help: "default (the model's own initialisation) or hash.") var initialization: String?
    @Option(name: .customLong("output-dir"), help: "Run folder (default reports/runs/MODEL-YYYYMMDD-HHMMSS).") var outputDir: String?
    @Option(help: "Continue the run in this folder from its last checkpoint, with its recipe (--epochs and --lr may change it).") var resume: String?
    @Flag(help: "Replace a run already in --output-dir (without it, such a folder is refused).") var force = false
    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument (repeatable).", valueName: "name=value")) var arguments: [String] = []

    func run() throws {
        try reportingErrors {
            let file = try Registry.load(model)
            let config = try TrainConfig.resolve(model: model, file: file, data: data, epochs: epochs, batchSize: batchSize, lr: lr,
                                                 optimizer: optimizer, weightDecay: weightDecay, seed: seed, limit: limit,
                                                 imageSize: imageSize, initialization: initialization, arguments: arguments)
            let dir: String
            if let resume { dir = resume } else if let outputDir { dir = outputDir } else {
                let f = DateFormatter()
                f.dateFormat = "yyyyMMdd-HHmmss"
                dir = "reports/runs/\(file.name)-\(f.string(from: Date()))"
            }
            // An ONNX model fine-tunes from its own weights (`--init` starts it afresh instead).
            var pretrained: [String: Tensor]? = nil
            if Registry.isONNX(model), initialization == nil, resume == nil {
                pretrained = [:]
                for t in try Registry.importONNX(model).tensors {
                    pretrained![t.name] = Tensor(shape: t.dims, values: t.int64s.map { $0.map(Float.init) } ?? t.floats)
                }
            }
            let trainer = try Trainer(config: config, directory: dir, resume: resume != nil, progress: Progress(), initialWeights: pretrained,
                                      pretrainedHead: pretrained != nil, resumeOverrides: (epochs, lr), overwrite: force)
            let records = try trainer.run()
            if let last = records.last { print(String(format: "final test accuracy %.4f — %@", last.testAcc, dir)) }
        }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Test accuracy, per-class accuracy and the confusion matrix of saved weights.")

    @Argument(help: "A registry model or a zoo file.") var model: String
    @Option(help: "weights.safetensors or checkpoint.safetensors of a run (or any file with the model's state_dict).") var weights: String
    @Option(help: "An MNIST-format IDX folder (default: Fashion-MNIST).") var data: String?
    @Option(name: .customLong("image-size"), help: "Resize images to S×S (use the training run's size).") var imageSize: Int?
    @Option(help: "Use only the first N test images.") var limit: Int?
    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument (repeatable).", valueName: "name=value")) var arguments: [String] = []

    func validate() throws {
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1, got \(l)") }
        if let s = imageSize, !(1...65536).contains(s) { throw ValidationError("--image-size must be between 1 and 65536, got \(s)") }
    }

    func run() throws {
        try reportingErrors {
            let e = try Evaluation.run(model: model, weights: weights, data: data, arguments: arguments, imageSize: imageSize, limit: limit)
            let fashion = (data ?? IDXDataset.defaultDirectory).contains("fashion")
            print(e.text(classNames: fashion ? Evaluation.fashionClasses : nil), terminator: "")
        }
    }
}
