import ConvLensGraph

/// How grey `rows`×`cols` images become a model's C×H×W input. The rules (README, "Training"):
/// 1. `--image-size S` forces S×S (bilinear resize).
/// 2. A model declared for slightly larger inputs (≤ 4 pixels per side, LeNet5's 32×32 for 28×28)
///    gets the image zero-padded in the centre, as the LeNet paper did.
/// 3. Otherwise the image keeps its size if the network accepts it (ResNet18, ConvNet);
/// 4. else it is resized to the smallest square size the network accepts (AlexNet: 63, Inception3: 75).
/// Grey is replicated to 3 channels for 3-channel models. Pixels are scaled to [0, 1].
public struct InputAdapter: Sendable, CustomStringConvertible {
    public enum Mode: Sendable, Equatable { case asIs, pad(Int, Int), resize }
    public var channels: Int
    public var height: Int
    public var width: Int
    public var rows: Int
    public var cols: Int
    public var mode: Mode

    public var description: String {
        let how: String
        switch mode {
        case .asIs: how = "as is"
        case .pad(let t, let l): how = "zero-padded by \(t)×\(l) (centre)"
        case .resize: how = "resized bilinearly"
        }
        return "\(rows)×\(cols) grey → \(channels)×\(height)×\(width), \(how)\(channels > 1 ? ", grey replicated to \(channels) channels" : "")"
    }

    public static func choose(for file: ZooFile, rows: Int, cols: Int, numClasses: Int, imageSize: Int?, arguments: [String]) throws -> InputAdapter {
        let channels = file.input[1]
        let declaredH = file.input[2], declaredW = file.input[3]
        func works(_ h: Int, _ w: Int) -> Bool {
            guard let g = try? Registry.graph(from: file, arguments: arguments + ["num_classes=\(numClasses)"], input: [1, channels, h, w]) else { return false }
            return g.trainingProblem == nil
        }
        if let s = imageSize {
            guard works(s, s) else { throw DataError("--image-size", "\(file.name) does not accept \(s)×\(s) inputs") }
            return InputAdapter(channels: channels, height: s, width: s, rows: rows, cols: cols, mode: s == rows && s == cols ? .asIs : .resize)
        }
        let dh = declaredH - rows, dw = declaredW - cols
        if dh >= 0, dw >= 0, dh <= 8, dw <= 8, dh % 2 == 0, dw % 2 == 0, dh + dw > 0, works(declaredH, declaredW) {
            return InputAdapter(channels: channels, height: declaredH, width: declaredW, rows: rows, cols: cols, mode: .pad(dh / 2, dw / 2))
        }
        if works(rows, cols) { return InputAdapter(channels: channels, height: rows, width: cols, rows: rows, cols: cols, mode: .asIs) }
        var s = max(rows, cols)
        while s <= max(declaredH, declaredW, 1024) {
            if works(s, s) { return InputAdapter(channels: channels, height: s, width: s, rows: rows, cols: cols, mode: .resize) }
            s += 1
        }
        throw DataError(file.path, "no input size up to \(s) works for \(file.name)")
    }

    /// Writes one image (bytes `rows·cols`) as `channels·height·width` floats.
    public func fill(_ image: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        let plane = height * width
        switch mode {
        case .asIs:
            for i in 0..<plane { out[i] = Float(image[i]) / 255 }
        case .pad(let top, let left):
            for i in 0..<plane { out[i] = 0 }
            for r in 0..<rows { for c in 0..<cols { out[(r + top) * width + c + left] = Float(image[r * cols + c]) / 255 } }
        case .resize:
            // Bilinear, align_corners=False (torch's F.interpolate default): src = (dst + 0.5)·scale − 0.5.
            let sy = Float(rows) / Float(height), sx = Float(cols) / Float(width)
            for y in 0..<height {
                let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
                let y0 = min(Int(fy), rows - 1), y1 = min(y0 + 1, rows - 1)
                let wy = fy - Float(y0)
                for x in 0..<width {
                    let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                    let x0 = min(Int(fx), cols - 1), x1 = min(x0 + 1, cols - 1)
                    let wx = fx - Float(x0)
                    let a = Float(image[y0 * cols + x0]), b = Float(image[y0 * cols + x1])
                    let c = Float(image[y1 * cols + x0]), d = Float(image[y1 * cols + x1])
                    out[y * width + x] = ((a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy) / 255
                }
            }
        }
        for ch in 1..<max(channels, 1) { (out + ch * plane).update(from: out, count: plane) }
    }
}
