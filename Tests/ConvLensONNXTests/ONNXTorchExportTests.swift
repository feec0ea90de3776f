import ConvLensEngine
import Foundation
import Testing
import TestSupport

/// Networks written here, exported by PyTorch (Debian's python3-torch, the TorchScript exporter at
/// opset 17, with and without constant folding), imported and run: the structures the reference
/// exports do not have — DenseNet's dense layers (a block reading every earlier feature map as one
/// list), ConvNeXt's block (a parameter the block owns scaling its branch, LayerNorm2d as a
/// permute / LayerNorm / permute in one module, Linear on the channels-last tensor, the Erf GELU).
/// Logits must match PyTorch's own within 1e-4 relative.
struct ONNXTorchExportTests {
    static let script = #"""
    import sys
    from collections import OrderedDict
    import torch, torch.nn as nn, torch.nn.functional as F
    torch.manual_seed(0)
    out = sys.argv[1]

    class _DenseLayer(nn.Module):
        def __init__(self, c, growth):
            super().__init__()
            self.norm1 = nn.BatchNorm2d(c); self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(c, 2 * growth, 1, bias=False)
            self.norm2 = nn.BatchNorm2d(2 * growth); self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(2 * growth, growth, 3, padding=1, bias=False)
        def forward(self, inputs):
            x = torch.cat(inputs, 1)
            return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))

    class _DenseBlock(nn.ModuleDict):
        def __init__(self, n, c, growth):
            super().__init__()
            for i in range(n):
                self.add_module("denselayer%d" % (i + 1), _DenseLayer(c + i * growth, growth))
        def forward(self, x):
            features = [x]
            for _, layer in self.items():
                features.append(layer(features))
            return torch.cat(features, 1)

    class MiniDenseNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(OrderedDict([
                ("conv0", nn.Conv2d(3, 16, 3, padding=1, bias=False)), ("norm0", nn.BatchNorm2d(16)),
                ("relu0", nn.ReLU(inplace=True)), ("denseblock1", _DenseBlock(3, 16, 8)), ("norm5", nn.BatchNorm2d(40))]))
            self.classifier = nn.Linear(40, 10)
        def forward(self, x):
            x = F.adaptive_avg_pool2d(F.relu(self.features(x)), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    class LayerNorm2d(nn.LayerNorm):
        def forward(self, x):
            return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)

    class Permute(nn.Module):
        def __init__(self, dims):
            super().__init__(); self.dims = dims
        def forward(self, x):
            return torch.permute(x, self.dims)

    class CNBlock(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.block = nn.Sequential(
                nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]), nn.LayerNorm(dim, eps=1e-6),
                nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
            self.layer_scale = nn.Parameter(torch.rand(dim, 1, 1))
        def forward(self, x):
            return self.layer_scale * self.block(x) + x

    class MiniConvNeXt(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Sequential(nn.Conv2d(3, 16, 4, stride=4), LayerNorm2d(16, eps=1e-6)),
                nn.Sequential(CNBlock(16), CNBlock(16)))
            self.classifier = nn.Sequential(LayerNorm2d(16, eps=1e-6), nn.Flatten(1), nn.Linear(16, 10))
        def forward(self, x):
            return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1))

    for name, m, size in [("densenet", MiniDenseNet(), 16), ("convnext", MiniConvNeXt(), 32)]:
        for mod in m.modules():       # trained-looking statistics, so that folding them matters
            if isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm)):
                nn.init.uniform_(mod.weight, 0.5, 1.5); nn.init.uniform_(mod.bias, -0.5, 0.5)
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 1.5)
        m.eval()
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            y = m(x)
        x.numpy().astype("<f4").tofile("%s/%s.input.bin" % (out, name))
        y.numpy().astype("<f4").tofile("%s/%s.logits.bin" % (out, name))
        for variant, fold in [("legacy", True), ("legacy-nofold", False)]:
            torch.onnx.export(m, (x,), "%s/%s.%s.onnx" % (out, name, variant), opset_version=17,
                              do_constant_folding=fold, input_names=["input"], output_names=["logits"])
    """#

    static func floats(_ url: URL) throws -> [Float] {
        let d = try Data(contentsOf: url)
        return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test func densenetAndConvnextBlocksImportAndRunAsTorch() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let scriptURL = tmp.appending(path: "export.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let py = try SystemPython.run([scriptURL.path, tmp.path])
        try #require(py.status == 0, "PyTorch export failed (is python3-torch installed? .ci/install-deps installs it): \(py.stderr)")
        for (name, size) in [("densenet", 16), ("convnext", 32)] {
            let x = try Self.floats(tmp.appending(path: "\(name).input.bin"))
            let ref = try Self.floats(tmp.appending(path: "\(name).logits.bin"))
            var inFile = SafeTensors()
            inFile.set("input", Tensor(shape: [2, 3, size, size], values: x))
            let inPath = tmp.appending(path: "\(name).in.safetensors").path
            try inFile.write(to: inPath)
            for variant in ["legacy", "legacy-nofold"] {
                let file = tmp.appending(path: "\(name).\(variant).onnx").path
                let analysis = try runConvLens(["analyze", file])
                #expect(analysis.status == 0, "\(name).\(variant): \(analysis.stderr)")
                let outPath = tmp.appending(path: "\(name).\(variant).out.safetensors").path
                let r = try runConvLens(["run", file, "--input", inPath, "--output", outPath])
                #expect(r.status == 0, "\(name).\(variant): \(r.stderr)")
                guard r.status == 0 else { continue }
                let logits = try SafeTensors.read(outPath).tensor("logits").values
                #expect(logits.count == ref.count)
                var d = 0.0, n = 0.0
                for (a, b) in zip(logits, ref) { d += Double(a - b) * Double(a - b); n += Double(b) * Double(b) }
                #expect((d / n).squareRoot() <= 1e-4, "\(name).\(variant): relative error \((d / n).squareRoot()) against PyTorch")
            }
        }
        // The unfolded ConvNeXt keeps the block's own parameter under its state_dict name.
        let printed = try runConvLens(["print", tmp.appending(path: "convnext.legacy-nofold.onnx").path])
        #expect(printed.stdout.contains("LayerNorm2d((16,), eps=1e-06"), "\(printed.stdout)")
        let st = try runConvLens(["import", tmp.appending(path: "convnext.legacy-nofold.onnx").path, "--output", tmp.appending(path: "cn.zoo").path])
        #expect(st.status == 0, "\(st.stderr)")
        let weights = try SafeTensors.read(tmp.appending(path: "cn.safetensors").path)
        #expect(weights.names.contains("features.1.0.layer_scale") && weights.names.contains("features.1.1.layer_scale"), "\(weights.names)")
    }
}
