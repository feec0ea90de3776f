import ConvLensGraph

/// Issue 2: parsing all seven zoo files and building their graphs, in one process: < 10 ms.
let graphBench = Bench(name: "zoo-parse-build", summary: "the seven classic models parsed + built < 10 ms") {
    let t = try seconds {
        for name in ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"] { _ = try Registry.graph(name) }
    }
    return [("ms", t * 1000)]
}

/// Issue 12: the whole registry (70 zoo files) parsed and built in one process: < 60 ms.
let registryGraphBench = Bench(name: "registry-parse-build", summary: "all 70 zoo files parsed + built < 60 ms") {
    var count = 0
    let t = try seconds {
        for name in Registry.names { _ = try Registry.graph(name); count += 1 }
    }
    var files: [ZooFile] = []
    let tParse = try seconds { files = try Registry.names.map { try Registry.load($0) } }
    var nodes = 0
    let tBuild = try seconds { for f in files { nodes += try GraphBuilder.build(f).nodes.count } }
    return [("ms", t * 1000), ("parse ms", tParse * 1000), ("build ms", tBuild * 1000), ("models", Double(count)), ("graph nodes", Double(nodes))]
}
