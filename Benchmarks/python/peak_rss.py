"""Peak resident set of this process, for the benchmark scripts."""


def peak_rss_mb():
    """VmHWM of /proc/self/status in MB (getrusage's ru_maxrss survives exec: a child of a 1 GB
    harness would report the harness's peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
