import ConvLensGraph

/// Issue 2: parsing all seven zoo files and building their graphs, in one process: < 10 ms.
let graphBench = Bench(name: "zoo-parse-build", summary: "the seven classic models parsed + built < 10 ms") {
    let t = try seconds {
        for name in ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"] { _ = try Registry.graph(name) }
    }
    return [("ms", t * 1000)]
}

/// Issue 12: the whole registry (70 zoo files) parsed and built in one process: < 60 ms.
/// `ms` is what `convlens list` and `compare` do (`Registry.graphs`, all cores): the mean of three
/// passes after one, as the model benchmarks time steps; `first pass ms` is that first pass, with
/// the caches and the heap as the benchmark before it left them. `serial ms`
/// is one thread, timed again as parse and build apart. Freeing the graphs is not timed.
let registryGraphBench = Bench(name: "registry-parse-build", summary: "all 70 zoo files parsed + built < 60 ms") {
    var kept: [ModelGraph] = []
    let tFirst = try seconds { kept = try Registry.graphs(Registry.names) }
    var passes: [Double] = []
    for _ in 0..<3 {
        kept = []
        passes.append(try seconds { kept = try Registry.graphs(Registry.names) })
    }
    let t = passes.reduce(0, +) / Double(passes.count)
    let count = kept.count
    kept = []
    let tSerial = try seconds { for name in Registry.names { kept.append(try Registry.graph(name)) } }
    kept = []
    var files: [ZooFile] = []
    let tParse = try seconds { files = try Registry.names.map { try Registry.load($0) } }
    var nodes = 0
    let tBuild = try seconds { for f in files { kept.append(try GraphBuilder.build(f)) } }
    nodes = kept.reduce(0) { $0 + $1.nodes.count }
    return [("ms", t * 1000), ("first pass ms", tFirst * 1000), ("serial ms", tSerial * 1000), ("parse ms", tParse * 1000), ("build ms", tBuild * 1000),
            ("threads", Double(Parallel.threads)), ("models", Double(count)), ("graph nodes", Double(nodes))]
}
