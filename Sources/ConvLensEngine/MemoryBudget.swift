import Foundation

/// How much memory this process may still take, and what an engine for a graph needs: a run that
/// cannot fit is refused before it starts, with one line saying why, instead of failing somewhere
/// inside (OpenBLAS retries a failed buffer allocation for ever: under `ulimit -v` a training run
/// spun at full CPU; a Swift allocation that fails aborts with a backtrace).
///
/// Limits read (the smallest wins): the address-space limit (`RLIMIT_AS`: `ulimit -v`,
/// `prlimit --as`) minus the address space already mapped; the cgroup's memory limit (v2
/// `memory.max`, v1 `memory.limit_in_bytes`) minus its usage; the machine's available memory and
/// free swap (`/proc/meminfo`). `CONVLENS_MEMORY_LIMIT` (bytes, or with a K/M/G suffix) adds one.
public enum MemoryBudget {
    public struct Limit: Sendable {
        /// Bytes still available under this limit.
        public var available: Int
        /// What the limit is, for messages.
        public var source: String
        /// Whether it counts address space (reserved, untouched mappings too) rather than memory used.
        public var addressSpace: Bool
    }

    /// Address space each engine thread reserves beyond the tensors: OpenBLAS's per-thread GEMM
    /// buffer (128 MiB in Debian's build), a glibc malloc arena (64 MiB) and a stack (8 MiB).
    public static let perThreadAddressSpace = 200 << 20

    /// The limits in force, smallest first.
    public static func limits() -> [Limit] {
        var out: [Limit] = []
        var r = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &r) == 0, r.rlim_cur != rlim_t.max, let mapped = mappedBytes() {
            let limit = Int(clamping: r.rlim_cur)
            out.append(Limit(available: max(0, limit - mapped), source: "the address-space limit (ulimit -v / prlimit --as) of \(mib(limit))", addressSpace: true))
        }
        if let (limit, used) = cgroupMemory() {
            out.append(Limit(available: max(0, limit - used), source: "the cgroup memory limit of \(mib(limit)) (\(mib(used)) in use)", addressSpace: false))
        }
        if let avail = meminfo("MemAvailable"), let swap = meminfo("SwapFree") {
            out.append(Limit(available: avail + swap, source: "the machine's available memory and swap", addressSpace: false))
        }
        if let text = ProcessInfo.processInfo.environment["CONVLENS_MEMORY_LIMIT"], let limit = parseBytes(text) {
            out.append(Limit(available: limit, source: "CONVLENS_MEMORY_LIMIT=\(text)", addressSpace: false))
        }
        return out.sorted { $0.available < $1.available }
    }

    /// Why `bytes` of tensors (plus `threads` engine threads) do not fit, or nil.
    public static func problem(tensorBytes bytes: Int, threads: Int, what: String) -> String? {
        for l in limits() {
            let need = l.addressSpace ? bytes + threads * perThreadAddressSpace : bytes
            guard need > l.available else { continue }
            var hint = "use a smaller batch or input, or raise the limit"
            if l.addressSpace && threads > 1 && bytes + perThreadAddressSpace <= l.available { hint = "CONVLENS_THREADS=1 fits, or " + hint }
            return "\(what) needs about \(mib(need))\(l.addressSpace ? " of address space (\(threads) thread\(threads == 1 ? "" : "s") × \(mib(perThreadAddressSpace)) of buffers included)" : ""), but \(l.source) leaves \(mib(l.available)); \(hint)"
        }
        return nil
    }

    /// A tensor allocation failed although the budget allowed it (another process took the memory):
    /// the one-line error ConvLens gives for every bad input, then exit 1.
    public static func outOfMemory(_ bytes: Int) -> Never {
        let limit = limits().first.map { "; \($0.source) leaves \(mib($0.available))" } ?? ""
        FileHandle.standardError.write(Data("convlens: error: out of memory: cannot allocate a tensor of \(mib(bytes))\(limit)\n".utf8))
        exit(1)
    }

    static func mib(_ b: Int) -> String {
        b >= 10 << 30 ? "\(b >> 30) GiB" : "\(max(0, b) >> 20) MiB"
    }

    /// The process's mapped address space (VmSize), from /proc/self/statm.
    static func mappedBytes() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = s.split(separator: " ").first.flatMap({ Int($0) }) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func meminfo(_ key: String) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }

    /// (limit, usage) of this process's memory cgroup, v2 or v1, when it has a limit.
    static func cgroupMemory() -> (Int, Int)? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        func read(_ p: String) -> Int? {
            (try? String(contentsOfFile: p, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            let path = String(f[2])
            if f[0] == "0", f[1].isEmpty, let limit = read("/sys/fs/cgroup\(path)/memory.max"), let used = read("/sys/fs/cgroup\(path)/memory.current") {
                return (limit, used)
            }
            if f[1].split(separator: ",").contains("memory") {
                for base in ["/sys/fs/cgroup/memory\(path)", "/sys/fs/cgroup/memory"] {
                    // v1 reports "no limit" as a huge page-rounded number.
                    if let limit = read(base + "/memory.limit_in_bytes"), limit < 1 << 60, let used = read(base + "/memory.usage_in_bytes") {
                        return (limit, used)
                    }
                }
            }
        }
        return nil
    }

    /// 512M, 2G, 1048576.
    static func parseBytes(_ s: String) -> Int? {
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        let t = s.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        if let u = t.last, let shift = units[u], let n = Int(t.dropLast()), n >= 0, n < 1 << 20 { return n << shift }
        return Int(t).flatMap { $0 >= 0 ? $0 : nil }
    }
}
