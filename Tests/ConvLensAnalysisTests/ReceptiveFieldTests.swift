import ConvLensAnalysis
import ConvLensGraph
import TestSupport
import Testing

/// Oracle: fields computed by hand with Araujo et al. (2019): r += (d(k−1))·j, j *= s, u −= p·j;
/// centre = u + (r − 1)/2, pixels indexed from 0.
@Suite struct ReceptiveFieldTests {
    func analyze(_ text: String) throws -> Analysis {
        try Analyzer.analyze(try GraphBuilder.build(try ZooParser.parse(text, file: "test.zoo")))
    }

    func field(_ a: Analysis, _ name: String) throws -> ReceptiveField {
        try #require(a.rows.last { $0.name == name }).rf
    }

    @Test func lenet5Chain() throws {
        let a = try Analyzer.analyze(try Registry.graph("lenet5"))
        // name: (size, jump, start)
        let expected: [(String, Int, Int, Double)] = [
            ("conv1", 5, 1, 2), ("pool1", 6, 2, 2.5), ("conv2", 14, 2, 6.5), ("pool2", 16, 4, 7.5),
            ("flatten", 32, 20, 15.5), ("fc1", 32, 20, 15.5), ("fc3", 32, 20, 15.5),
        ]
        for (name, r, j, c) in expected {
            let f = try field(a, name)
            #expect(f.size == [r, r], "\(name)")
            #expect(f.jump == [j, j], "\(name)")
            #expect(f.start == [c, c], "\(name)")
            #expect(f.aligned)
        }
    }

    @Test func convnetChain() throws {
        let a = try Analyzer.analyze(try Registry.graph("convnet"))
        let expected: [(String, Int, Int, Int)] = [("conv_1", 3, 1, -1), ("pool_1", 4, 2, -1), ("conv_2", 8, 2, -3), ("pool_2", 10, 4, -3)]
        for (name, r, j, u) in expected {
            let f = try field(a, name)
            #expect(f.size == [r, r] && f.jump == [j, j] && f.left == [u, u], "\(name): \(f)")
        }
        #expect(try field(a, "pool_2").start == [1.5, 1.5])
    }

    @Test func twoBranchConcatIsTheUnion() throws {
        let a = try analyze("""
            model twobranch class TwoBranch
            input 1 1 32 32
            a = Conv2d(1, 4, kernel_size=3, padding=1) <- $in
            b = Conv2d(1, 4, kernel_size=5, padding=2) <- $in
            cat = torch.cat(1) <- a, b
            """)
        let f = try field(a, "cat")
        #expect(f.size == [5, 5] && f.jump == [1, 1] && f.left == [-2, -2] && f.start == [0, 0])
        #expect(f.aligned)
    }

    @Test func misalignedBranchesAreFlagged() throws {
        // Same output size (16), different centres: 3×3/2 pad 1 is centred at 0, 2×2/2 at 0.5.
        let a = try analyze("""
            model skew class Skew
            input 1 1 32 32
            a = Conv2d(1, 4, kernel_size=3, stride=2, padding=1) <- $in
            b = Conv2d(1, 4, kernel_size=2, stride=2) <- $in
            cat = torch.cat(1) <- a, b
            """)
        #expect(try field(a, "a").start == [0, 0])
        #expect(try field(a, "b").start == [0.5, 0.5])
        let f = try field(a, "cat")
        #expect(f.size == [3, 3] && f.left == [-1, -1] && f.jump == [2, 2])
        #expect(!f.aligned)
    }

    @Test func residualWithStridedDownsample() throws {
        let a = try analyze("""
            model res class Res
            input 1 3 32 32
            block Down(c_in, c_out) {
              conv1 = Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1)
              conv2 = Conv2d(c_out, c_out, kernel_size=3, padding=1)
              downsample = Conv2d(c_in, c_out, kernel_size=1, stride=2) <- $in
              add = add <- conv2, downsample
            }
            stem = Conv2d(3, 8, kernel_size=3, padding=1)
            block1 = Down(8, 16)
            """)
        #expect(try field(a, "block1.conv1").size == [5, 5])
        #expect(try field(a, "block1.conv2").size == [9, 9])
        #expect(try field(a, "block1.downsample").size == [3, 3])
        let add = try field(a, "block1.add")
        #expect(add.size == [9, 9] && add.jump == [2, 2] && add.left == [-4, -4] && add.start == [0, 0] && add.aligned)
        let block = try #require(a.rows.first { $0.name == "block1" && $0.kind == .container })
        #expect(block.rf == add)
        #expect(block.outputShape == [1, 16, 16, 16])
        #expect(block.inputShapes == [[1, 8, 32, 32]])
    }

    @Test func dilationWidensTheField() throws {
        let a = try analyze("""
            model dil class Dil
            input 1 1 16 16
            c1 = Conv2d(1, 1, kernel_size=3, padding=2, dilation=2)
            c2 = Conv2d(1, 1, kernel_size=3, padding=4, dilation=4)
            """)
        #expect(try field(a, "c1").size == [5, 5])
        #expect(try field(a, "c2").size == [13, 13])
        #expect(try field(a, "c2").left == [-6, -6])
    }

    @Test func publishedFiguresForAlexNetAndVGG16() throws {
        for (model, size) in [("alexnet", 195), ("vgg16", 212)] {
            let a = try Analyzer.analyze(try Registry.graph(model))
            let features = try #require(a.rows.first { $0.name == "features" && $0.kind == .container })
            #expect(features.rf.size == [size, size], "\(model)")
            #expect(a.lastFeatureMap?.rf.size == [size, size], "\(model)")
        }
    }
}
