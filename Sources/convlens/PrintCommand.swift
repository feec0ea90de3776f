import ArgumentParser
import ConvLensGraph

struct PrintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "print", abstract: "Print the model exactly as PyTorch's print(model) does.")

    @OptionGroup var options: ModelOptions

    func run() throws {
        try reportingErrors {
            print(TorchRepr.render(try options.graph()), terminator: "")
        }
    }
}
