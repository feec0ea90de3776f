import Foundation

/// Training progress on stderr: on a terminal a live bar per epoch (batch, loss, accuracy,
/// images/s, ETA), redrawn at most five times a second; otherwise one line per epoch.
public final class Progress: @unchecked Sendable {
    public let live: Bool
    let quiet: Bool
    var lastDraw = 0.0

    public init(quiet: Bool = false) {
        live = isatty(STDERR_FILENO) == 1
        self.quiet = quiet
    }

    func emit(_ s: String) { if !quiet { FileHandle.standardError.write(Data(s.utf8)) } }

    public func message(_ s: String) { emit(s + "\n") }

    public func batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, acc: Double, imagesPerSecond: Double, eta: Double) {
        guard live else { return }
        let now = Date().timeIntervalSince1970
        guard batch == batches || now - lastDraw > 0.2 else { return }
        lastDraw = now
        let width = 24
        let filled = batches > 0 ? width * batch / batches : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        emit(String(format: "\r\u{1B}[2Kepoch %d/%d %@ %d/%d  loss %.4f  acc %5.1f%%  %6.0f img/s  ETA %@",
                    epoch, epochs, bar, batch, batches, loss, acc * 100, imagesPerSecond, clock(eta)))
    }

    public func epochDone(_ r: EpochRecord, epochs: Int) {
        if live { emit("\r\u{1B}[2K") }
        emit(String(format: "epoch %d/%d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %.1f s  %.0f img/s\n",
                     r.epoch, epochs, r.trainLoss, r.trainAcc, r.testLoss, r.testAcc, r.seconds, r.imagesPerSecond))
    }

    func clock(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
