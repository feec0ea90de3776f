import ConvLensGraph

/// Issue 2: parsing all seven zoo files and building their graphs, in one process: < 10 ms.
let graphBench = Bench(name: "zoo-parse-build", summary: "all registry models parsed + built < 10 ms") {
    let t = try seconds {
        for name in Registry.names { _ = try Registry.graph(name) }
    }
    return [("ms", t * 1000)]
}
