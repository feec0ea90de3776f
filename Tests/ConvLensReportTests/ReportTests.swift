import Foundation
import Testing
@testable import ConvLensReport
import TestSupport

/// Oracles: PyTorch's totals (../shared/reference) for the comparison; the committed reports/
/// for staleness (`convlens report` must have been run after any change that alters them).
@Suite struct ReportTests {
    @Test func compareReportsExactParamsAndMACs() throws {
        let rows = try Compare.rows(models: Paths.referenceModels, input: nil, runsDirectory: "/nonexistent")
        #expect(Set(rows.map(\.name)) == Set(Paths.referenceModels))
        for r in rows {
            guard let input = Paths.referenceInput(r.name), input == r.input_shape else { continue }   // same input as the reference
            let totals = try #require(Paths.referenceJSON(r.name, "totals.json") as? [String: Any])
            #expect(r.params == totals["params"] as? Int, "\(r.name)")
            #expect(r.macs == totals["own_macs"] as? Int, "\(r.name)")
            #expect(r.inference_params <= r.params)
        }
        #expect(rows.first { $0.name == "vgg16" }?.depth == 16)
        #expect(rows.first { $0.name == "alexnet" }?.rf == [195, 195])
    }

    /// Oracle: torchvision's published figures (../shared/reference/torchvision_weights.json) for
    /// all 68 builders: parameters as the default weights ship, GMACs at the default crop, accuracies.
    @Test func compareMatchesTorchvisionsPublishedFigures() throws {
        // The file writes Python's NaN for entries without an accuracy (feature-only weights).
        let text = try String(contentsOf: Paths.reference.appending(path: "torchvision_weights.json"), encoding: .utf8)
            .replacingOccurrences(of: ": NaN", with: ": null")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let builders = try #require(doc["builders"] as? [String: [[String: Any]]])
        #expect(builders.count == 68)
        let rows = try Compare.rows(models: builders.keys.sorted(), runsDirectory: "/nonexistent")
        for r in rows {
            let w = try #require(builders[r.name]?.first, "\(r.name)")
            let crop = try #require(w["crop"] as? Int)
            #expect(r.input_shape == [1, 3, crop, crop], "\(r.name): default input is the eval crop")
            let published = try #require(w["params"] as? Int)
            // torchvision counts the model as its weights ship: GoogLeNet's without its aux heads
            // (built with aux_logits=False), Inception3's with them.
            #expect(r.params == published || r.inference_params == published, "\(r.name): \(r.params) / \(r.inference_params) vs \(published)")
            let gmacs = (Double(r.macs) / 1e9 * 1000).rounded() / 1000
            #expect(gmacs == w["gflops"] as? Double, "\(r.name): \(gmacs) GMACs vs published \(w["gflops"] ?? "")")
            #expect(r.imagenet_top1 == w["acc1"] as? Double, "\(r.name)")
            #expect(r.imagenet_top5 == w["acc5"] as? Double, "\(r.name)")
            #expect(r.imagenet_params == published && r.imagenet_gflops == w["gflops"] as? Double, "\(r.name): meta lines")
            #expect(r.imagenet_source?.contains(w["weights"] as? String ?? "?") == true, "\(r.name): the weights entry is named")
            #expect(!r.family.isEmpty, "\(r.name)")
        }
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

    /// `--measure` times the eval fast path and says so: `latency_ms` keeps `batch1` and `batch8`
    /// (ms per image, which other tools read) and names the engine and thread count; the text
    /// table says the same under it.
    @Test func measuredLatencyNamesEngineThreadsAndBatches() throws {
        let rows = try Compare.rows(models: ["convnet"], runsDirectory: "/nonexistent", measure: true)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(try Compare.render(rows, format: .json).utf8)) as? [String: Any])
        let latency = try #require((doc["models"] as? [[String: Any]])?.first?["latency_ms"] as? [String: Any])
        let (b1, b8) = (try #require(latency["batch1"] as? Double), try #require(latency["batch8"] as? Double))
        #expect(b1 > 0 && b8 > 0)
        #expect(latency["engine"] as? String == Compare.latencyEngine)
        let threads = try #require(latency["threads"] as? Int)
        #expect(threads >= 1)
        let text = try Compare.render(rows, format: .text)
        #expect(text.contains("eval fast path") && text.contains("\(threads) thread") && text.contains("batch 1 and batch 8"))
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
        #expect(rows.count == 2 + Paths.registryModels.count)
        for r in rows { #expect(readme.contains(r), "README lacks: \(r)") }
        #expect(readme.contains("reports/accuracy_vs_compute.svg"))
        #expect(readme.contains("reports/README.md"))
        let index = try String(contentsOf: Paths.packageRoot.appending(path: "reports/README.md"), encoding: .utf8)
        for m in Paths.registryModels {
            #expect(index.contains("(\(m)/diagram.svg)") && index.contains("(\(m)/diagram-depth1.png)"), "\(m)")
        }
    }
}
