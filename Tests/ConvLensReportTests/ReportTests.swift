import Foundation
import Testing
@testable import ConvLensReport
import TestSupport

/// Oracles: PyTorch's totals (../shared/reference) for the comparison; the committed reports/
/// for staleness (`convlens report` must have been run after any change that alters them).
@Suite struct ReportTests {
    @Test func compareReportsExactParamsAndMACs() throws {
        let rows = try Compare.rows(runsDirectory: Paths.packageRoot.appending(path: "reports/runs").path)
        #expect(rows.map(\.name) == Paths.registryModels)
        for r in rows {
            let totals = try #require(Paths.referenceJSON(r.name, "totals.json") as? [String: Any])
            #expect(r.params == totals["params"] as? Int, "\(r.name)")
            #expect(r.macs == totals["own_macs"] as? Int, "\(r.name)")
            #expect(r.inference_params <= r.params)
        }
        let published = rows.filter { $0.imagenet_top1 != nil && $0.imagenet_top5 != nil }.map(\.name)
        #expect(published == ["alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"])
        #expect(rows.first { $0.name == "vgg16" }?.depth == 16)
        #expect(rows.first { $0.name == "alexnet" }?.rf == [195, 195])
    }

    @Test func jsonKeepsTheContractKeys() throws {
        let rows = try Compare.rows(models: ["convnet"], runsDirectory: "/nonexistent")
        let json = try Compare.render(rows, format: .json)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let m = try #require((doc["models"] as? [[String: Any]])?.first)
        for key in ["name", "params", "macs", "flops", "activation_bytes", "rf", "depth", "imagenet_top1", "imagenet_top5", "fashion_mnist_acc", "latency_ms"] {
            #expect(m.keys.contains(key), "\(key)")
        }
        #expect(m["imagenet_top1"] is NSNull)
        #expect(m["latency_ms"] is NSNull)
    }

    @Test func committedReportsAreCurrent() throws {
        let reports = Paths.packageRoot.appending(path: "reports")
        let artifacts = try Report.textArtifacts(runsDirectory: reports.appending(path: "runs").path)
        #expect(artifacts.count > 30)
        for a in artifacts where a.reproducible {
            let committed = FileManager.default.contents(atPath: reports.appending(path: a.path).path)
            #expect(committed != nil, "reports/\(a.path) is missing: run `convlens report`")
            if let committed, [UInt8](committed) != a.bytes {
                Issue.record("reports/\(a.path) is stale: run `convlens report`")
            }
        }
    }

    @Test func readmeShowsTheCurrentComparisonTable() throws {
        let readme = try String(contentsOf: Paths.packageRoot.appending(path: "README.md"), encoding: .utf8)
        let table = try String(contentsOf: Paths.packageRoot.appending(path: "reports/compare.md"), encoding: .utf8)
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("|") }
        #expect(rows.count == 9)
        for r in rows { #expect(readme.contains(r), "README lacks: \(r)") }
        #expect(readme.contains("reports/accuracy_vs_compute.svg"))
        for m in Paths.registryModels { #expect(readme.contains("reports/\(m)/diagram.svg"), "\(m)") }
    }
}
