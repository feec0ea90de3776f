import Foundation
import Testing
import ConvLensGraph
import TestSupport

/// Malformed zoo files: each gives one ZooError with file:line:column and the module path.
@Suite struct ZooErrorTests {
    static let header = "model m\ninput 1 3 32 32\nparam num_classes = 10\n"   // 3 lines

    func failure(_ body: String, overrides: [(String, ZooValue)] = [], input: [Int]? = nil) -> ZooError? {
        do {
            let f = try ZooParser.parse(Self.header + body, file: "user.zoo")
            _ = try GraphBuilder.build(f, overrides: overrides, input: input)
            return nil
        } catch { return error }
    }

    func check(_ body: String, _ kind: ZooError.Kind, line: Int, column: Int, module: String?, mentions: String,
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        guard let e = failure(body) else { Issue.record("no error", sourceLocation: sourceLocation); return }
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        #expect(e.location?.file == "user.zoo", sourceLocation: sourceLocation)
        #expect(e.location?.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.location?.column == column, "\(e)", sourceLocation: sourceLocation)
        #expect(e.modulePath == module, "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.contains(mentions), "\(e)", sourceLocation: sourceLocation)
        #expect(!e.description.contains("\n"), sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("user.zoo:\(line):\(column): error: "), "\(e)", sourceLocation: sourceLocation)
    }

    @Test func syntaxError() {
        check("conv = Conv2d(3, 8, kernel_size=3\n", .syntax, line: 4, column: 34, module: nil, mentions: "expected ')'")
        check("conv = Conv2d(3, 8, 3) ?\n", .syntax, line: 4, column: 24, module: nil, mentions: "unexpected character")
    }

    @Test func unknownLayerType() {
        check("x = Conv3d(3, 8, 3)\n", .undefinedBlock, line: 4, column: 5, module: "x", mentions: "unknown layer type or block 'Conv3d'")
        check("x = F.gelu\n", .unknownLayer, line: 4, column: 5, module: "x", mentions: "unknown function 'F.gelu'")
    }

    @Test func unknownOrIllTypedArgument() {
        check("conv = Conv2d(3, 8, kernel=3)\n", .unknownArgument, line: 4, column: 21, module: "conv", mentions: "no argument 'kernel'")
        check("conv = Conv2d(3, 8, kernel_size=3, stride=1.5)\n", .badArgument, line: 4, column: 8, module: "conv", mentions: "'stride' must be an int or a pair of ints")
        check("conv = Conv2d(3, 8, kernel_size=3, bias=1)\n", .badArgument, line: 4, column: 8, module: "conv", mentions: "'bias' must be a bool")
        check("fc = Linear(3, num_class)\n", .unknownParameter, line: 4, column: 16, module: "fc", mentions: "unknown name 'num_class'")
    }

    @Test func undefinedBlock() {
        check("block A(c) {\n  conv = Conv2d(c, c, 3)\n}\nstem = Conv2d(3, 8, 3)\nlayer1 = Sequential {\n  0 = BasicBlok(8)\n}\n",
              .undefinedBlock, line: 9, column: 7, module: "layer1.0", mentions: "'BasicBlok'")
    }

    @Test func channelMismatch() {
        check("conv1 = Conv2d(3, 16, 3)\nconv2 = Conv2d(8, 16, 3)\n", .channelMismatch, line: 5, column: 1, module: "conv2",
              mentions: "expects 8 input channels but receives 16")
        check("block B(c) {\n  conv = Conv2d(c, c, 3, padding=1)\n  bn = BatchNorm2d(4)\n}\nb = B(3)\n",
              .channelMismatch, line: 6, column: 3, module: "b.bn", mentions: "expects 4 channels but receives 3")
        check("conv = Conv2d(3, 4, 3)\nflat = torch.flatten(1)\nfc = Linear(100, num_classes)\n",
              .channelMismatch, line: 6, column: 1, module: "fc", mentions: "expects 100 input features but receives 3600")
    }

    @Test func kernelLargerThanPaddedInput() {
        check("conv = Conv2d(3, 8, 5, stride=4)\nconv2 = Conv2d(8, 8, 11)\n", .inputTooSmall, line: 5, column: 1, module: "conv2",
              mentions: "larger than its padded input")
        check("pool = MaxPool2d(64)\n", .inputTooSmall, line: 4, column: 1, module: "pool", mentions: "larger than its padded input")
    }

    @Test func inputNameThatDoesNotExist() {
        check("a = Conv2d(3, 8, 3)\nb = Conv2d(3, 8, 3) <- $in\nc = torch.cat(1) <- a, bb\n", .unknownInput, line: 6, column: 24, module: "c",
              mentions: "input 'bb' does not exist")
    }

    @Test func overridesAreChecked() {
        let e1 = failure("fc = Linear(3, num_classes)\n", overrides: [("classes", .int(3))])
        #expect(e1?.kind == .unknownParameter)
        #expect(e1?.description.contains("has no argument 'classes' (it takes: num_classes)") == true)
        let e2 = failure("fc = Linear(3, num_classes)\n", overrides: [("num_classes", .float(2.5))])
        #expect(e2?.kind == .badArgument)
        #expect(e2?.location?.line == 3)
    }

    @Test func missingHeaderLinesAndUnclosedBodies() throws {
        #expect(throws: ZooError.self) { try ZooParser.parse("input 1 3 8 8\nx = ReLU()\n", file: "f.zoo") }
        #expect(throws: ZooError.self) { try ZooParser.parse("model m\nx = ReLU()\n", file: "f.zoo") }
        #expect(throws: ZooError.self) { try ZooParser.parse("model m\ninput 1 3 8 8\ns = Sequential {\n  0 = ReLU()\n", file: "f.zoo") }
    }

    @Test func cliReportsOneLineAndExitsOne() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appending(path: "bad.zoo")
        try (Self.header + "conv1 = Conv2d(3, 16, 3)\nconv2 = Conv2d(8, 16, 3)\n").write(to: file, atomically: true, encoding: .utf8)
        let r = try runConvLens(["print", file.path])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(r.stderr.contains("bad.zoo:5:1: error: conv2: Conv2d expects 8 input channels but receives 16"))
        let missing = try runConvLens(["print", "no-such-model"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("unknown model 'no-such-model'"))
    }
}
