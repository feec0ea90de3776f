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

    // MARK: the kinds and syntax the torchvision families added

    @Test func broadcastMultiplyOfIncompatibleShapes() {
        check("a = Conv2d(3, 8, 1)\nb = Conv2d(8, 4, 1)\nm = mul <- a, b\n", .shape, line: 6, column: 5, module: "m",
              mentions: "mul inputs do not broadcast: [1, 8, 32, 32] vs [1, 4, 32, 32]")
    }

    @Test func chunkOfAnOddChannelCount() {
        check("a = Conv2d(3, 7, 1)\nx1 = torch.chunk(2, dim=1)[0]\n", .shape, line: 5, column: 6, module: "x1",
              mentions: "torch.chunk(2, dim=1) of 7 would give unequal pieces")
        check("a = Conv2d(3, 8, 1)\nx1 = torch.chunk(2, dim=1)[2]\n", .badArgument, line: 5, column: 6, module: "x1",
              mentions: "piece [2] does not exist")
    }

    // Shape errors of a module point at its name (where it is registered), of a function at the call.
    @Test func layerNormOverAWrongSize() {
        check("a = Conv2d(3, 8, 1)\nn = LayerNorm(8)\n", .channelMismatch, line: 5, column: 1, module: "n",
              mentions: "LayerNorm over (8) needs an input ending in those sizes, got [1, 8, 32, 32] (channels are dim 1: permute to NHWC first, or use LayerNorm2d)")
        check("a = Conv2d(3, 8, 1)\nn = LayerNorm2d(16)\n", .channelMismatch, line: 5, column: 1, module: "n",
              mentions: "LayerNorm2d normalises 16 channels but receives 8")
    }

    @Test func channelShufflePermuteAndMean() {
        check("a = Conv2d(3, 9, 1)\ns = channel_shuffle(2)\n", .shape, line: 5, column: 5, module: "s",
              mentions: "channel_shuffle with 2 groups needs a channel count divisible by 2, got 9")
        check("p = Permute([0, 2, 1])\n", .shape, line: 4, column: 1, module: "p", mentions: "need a 3-d input, got [1, 3, 32, 32]")
        check("p = Permute([0, 2, 2, 1])\n", .badArgument, line: 4, column: 5, module: "p", mentions: "must be a permutation")
        check("m = torch.mean(dim=(2, 5))\n", .shape, line: 4, column: 5, module: "m", mentions: "out of range for [1, 3, 32, 32]")
    }

    @Test func activationAndStochasticDepthArguments() {
        check("g = GELU(approximate='fast')\n", .badArgument, line: 4, column: 5, module: "g", mentions: "GELU approximate must be 'none' or 'tanh'")
        check("s = StochasticDepth(0.1, 'rows')\n", .badArgument, line: 4, column: 5, module: "s", mentions: "mode has to be 'row' or 'batch'")
        check("s = StochasticDepth(1.5, 'row')\n", .badArgument, line: 4, column: 5, module: "s", mentions: "between 0 and 1")
        check("h = Hardswish(alpha=2)\n", .unknownArgument, line: 4, column: 15, module: "h", mentions: "Hardswish has no argument 'alpha'")
    }

    @Test func expressionsAndQuotedNames() {
        check("c = Conv2d(3, 8 // 0, 1)\n", .badArgument, line: 4, column: 15, module: "c", mentions: "integer division by zero")
        check("c = Conv2d(3, 9223372036854775807 * 2, 1)\n", .badArgument, line: 4, column: 15, module: "c", mentions: "overflows a 64-bit integer")
        check("c = Conv2d(3, num_classes * 'a', 1)\n", .badArgument, line: 4, column: 15, module: "c", mentions: "arithmetic needs numbers")
        // A quoted name is a module name like any other (RegNet's "block1-0"), and expressions evaluate.
        #expect(failure("\"block1-0\" = Conv2d(3, num_classes * 2 - (4 // 2), kernel_size=(5 - 2) // 1)\n") == nil)
    }

    @Test func parametersAndMultiInputBlocks() {
        let twoInputs = "block Pair(c) {\n  x = Conv2d(c, c, 1)\n}\na = Conv2d(3, 4, 1)\nb = Conv2d(3, 4, 1) <- $in\np = Pair(4) <- a, b\n"
        check(twoInputs, .shape, line: 5, column: 3, module: "p.x", mentions: "this block takes 2 inputs")
        check("w = Parameter(4, 1, 1) <- $in\n", .syntax, line: 4, column: 1, module: "w", mentions: "Parameter takes no inputs")
        check("w = Parameter(4, 0)\n", .badArgument, line: 4, column: 5, module: "w", mentions: "must be a positive int")
    }

    /// Pathologically deep nesting is a one-line error, not a stack overflow (both crashed before:
    /// ~3,600 nested Sequentials, ~16,000 nested parentheses).
    @Test func deepNestingIsBounded() {
        let depth = 5_000
        var seq = ""
        for _ in 0..<depth { seq += "s = Sequential {\n" }
        seq += "0 = ReLU()\n" + String(repeating: "}\n", count: depth)
        guard let e = failure(seq) else { Issue.record("accepted"); return }
        #expect(e.message.contains("bodies nest more than 128 levels deep"), "\(e)")
        let parens = "c = Conv2d(3, 8, " + String(repeating: "(", count: 20_000) + "3" + String(repeating: ")", count: 20_000) + ")\n"
        guard let p = failure(parens) else { Issue.record("accepted"); return }
        #expect(p.message.contains("values nest too deeply"), "\(p)")
        #expect(!p.description.contains("\n"))
        let signs = "c = Conv2d(3, 8, " + String(repeating: "- ", count: 50_000) + "3)\n"
        guard let m = failure(signs) else { Issue.record("accepted"); return }
        #expect(m.message.contains("values nest too deeply"), "\(m)")
    }
}
