import ConvLensGraph
import Foundation

/// A small seeded mutation fuzzer (AFL-style byte and token mutations), for the fuzz suites: each
/// target mutates valid inputs and checks that ConvLens either accepts them or throws its own
/// one-line error — never traps, hangs or prints a multi-line error.
///
/// `CONVLENS_FUZZ_SEED` (default 1) and `CONVLENS_FUZZ_SCALE` (default 1: a few seconds per target)
/// set the campaign; `.ci/fuzz` runs long ones. The input being tried is written to
/// `$TMPDIR/convlens-fuzz-<target>.last` first, so a crash leaves its reproducer behind.
public struct Fuzz {
    public static var seed: UInt64 { ProcessInfo.processInfo.environment["CONVLENS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 1 }
    public static var scale: Int { max(1, ProcessInfo.processInfo.environment["CONVLENS_FUZZ_SCALE"].flatMap { Int($0) } ?? 1) }
    /// Iterations for a target: `base` × scale.
    public static func iterations(_ base: Int) -> Int { base * scale }

    /// Numbers that find overflow and boundary bugs.
    public static let interestingNumbers = [
        "0", "1", "-1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
        "1099511627776", "4611686018427387904", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "1e308", "1e-308", "nan", "inf", "-inf", "0.0", "3.5e38", "1e300",
    ]

    var generator: SplitMix64
    public let target: String
    public init(target: String, seed: UInt64 = Fuzz.seed) {
        self.target = target
        generator = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: target.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
    }

    public mutating func next() -> UInt64 { generator.next() }
    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }

    /// One to four byte-level mutations: bit flips, interesting bytes, deletions, duplications,
    /// insertions of dictionary tokens, truncation, 32-bit big- and little-endian extremes.
    public mutating func mutate(_ input: [UInt8], dictionary: [String] = []) -> [UInt8] {
        var b = input
        for _ in 0...below(4) {
            let i = below(max(b.count, 1))
            switch below(9) {
            case 0 where !b.isEmpty: b[i] ^= UInt8(1 << below(8))
            case 1 where !b.isEmpty: b[i] = pick([0, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x22, 0x2c, 0x5b, 0x7b])
            case 2 where !b.isEmpty: b.removeSubrange(i..<min(b.count, i + 1 + below(16)))
            case 3 where !b.isEmpty: b.insert(contentsOf: Array(b[i..<min(b.count, i + 1 + below(64))]), at: below(b.count))
            case 4 where !dictionary.isEmpty: b.insert(contentsOf: Array(pick(dictionary).utf8), at: min(i, b.count))
            case 5 where !b.isEmpty: b.removeSubrange(below(b.count)...)
            case 6 where b.count >= 4:
                let v: UInt32 = pick([0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0, 1, 0x0001_0000])
                let j = below(b.count - 3)
                for k in 0..<4 { b[j + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(3 - k))) }
            case 7 where b.count >= 8:
                let j = below(b.count - 7)
                let v: UInt64 = pick([UInt64.max, UInt64(Int64.max), 1 << 62, 0, 1 << 40])
                for k in 0..<8 { b[j + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            default: b.append(UInt8(truncatingIfNeeded: next()))
            }
        }
        return b
    }

    /// Text mutations that keep it mostly well-formed: a number replaced by an interesting one, a
    /// token inserted, a line deleted or duplicated — then sometimes a byte-level mutation.
    public mutating func mutate(text: String, tokens: [String]) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0...below(3) {
            guard !lines.isEmpty else { break }
            let l = below(lines.count)
            switch below(6) {
            case 0, 1:
                let line = Array(lines[l].utf8)
                let digits = line.indices.filter { line[$0] >= 0x30 && line[$0] <= 0x39 && ($0 == 0 || !(line[$0 - 1] >= 0x30 && line[$0 - 1] <= 0x39)) }
                guard let start = digits.isEmpty ? nil : digits[below(digits.count)] else { continue }
                var end = start
                while end < line.count && line[end] >= 0x30 && line[end] <= 0x39 { end += 1 }
                lines[l] = String(decoding: line[..<start] + Array(pick(Fuzz.interestingNumbers).utf8) + line[end...], as: UTF8.self)
            case 2:
                var line = Array(lines[l].utf8)
                line.insert(contentsOf: Array(pick(tokens + Fuzz.interestingNumbers).utf8), at: below(line.count + 1))
                lines[l] = String(decoding: line, as: UTF8.self)
            case 3: lines.remove(at: l)
            case 4: lines.insert(lines[l], at: below(lines.count + 1))
            default: lines.swapAt(l, below(lines.count))
            }
        }
        let out = lines.joined(separator: "\n")
        return below(4) == 0 ? String(decoding: mutate(Array(out.utf8), dictionary: tokens), as: UTF8.self) : out
    }

    /// Records the input about to be tried (the reproducer if it crashes).
    public func record(_ bytes: [UInt8]) {
        let url = FileManager.default.temporaryDirectory.appending(path: "convlens-fuzz-\(target).last")
        try? Data(bytes).write(to: url)
    }
}
