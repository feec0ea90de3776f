import Foundation
import TestSupport
import Testing

/// Oracle: the reference files and the documented JSON contract, through the built binary.
@Suite struct AnalysisCLITests {
    @Test(arguments: Paths.referenceModels)
    func summaryPrintsTorchinfo(_ model: String) throws {
        let input = (Paths.referenceInput(model) ?? []).map(String.init).joined(separator: "x")
        let r = try runConvLens(["summary", model, "--input", input])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try Paths.referenceText(model, "torchinfo.txt")))
    }

    @Test func analyzeJSONWithConvention() throws {
        let r = try runConvLens(["analyze", "vgg16", "--convention", "ptflops", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["convention"] as? String == "ptflops")
        let totals = obj["totals"] as! [String: Any]
        #expect(totals["flops"] as? Int == (try AnalysisReference.totals("vgg16")).tools["ptflops"])
    }

    @Test func analyzeFormats() throws {
        let csv = try runConvLens(["analyze", "convnet", "--format", "csv"])
        #expect(csv.status == 0)
        #expect(csv.stdout.hasPrefix("name,type,kind,depth,"))
        #expect(csv.stdout.split(separator: "\n").count == 1 + 8)
        let md = try runConvLens(["analyze", "convnet", "--format", "markdown", "--mode", "train"])
        #expect(md.status == 0 && md.stdout.hasPrefix("| Layer | Type |"))
        let text = try runConvLens(["analyze", "resnet18", "--input", "2x3x64x64", "--arg", "num_classes=10"])
        #expect(text.status == 0 && text.stdout.contains("input 2x3x64x64"))
    }

    @Test func inputTooSmallExitsOne() throws {
        let r = try runConvLens(["analyze", "alexnet", "--input", "1x3x32x32"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("features.12") && r.stderr.contains("--input 1x3x63x63"))
    }

    @Test func badOptionsExitOne() throws {
        #expect(try runConvLens(["summary", "lenet5", "--columns", "output,nope"]).status == 1)
        #expect(try runConvLens(["analyze", "lenet5", "--convention", "nope"]).status != 0)
        let extra = try runConvLens(["summary", "alexnet", "--columns", "output,params,kernel,macs,flops,rf,memory"])
        #expect(extra.status == 0 && extra.stdout.contains("195×195"))
    }
}
