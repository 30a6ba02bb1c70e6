#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// glibc malloc settings for the long-running agent (no-ops where malloc is not glibc's).
public enum MallocTuning {
    /// glibc gives threads that allocate at the same time arenas of their own, up to 8 per core, and
    /// memory freed in an arena stays resident there. The agent's blocking HTTP threads would spread
    /// its heap over some 16 arenas; `arenas` of them are enough for its load. `MALLOC_ARENA_MAX` or a
    /// `GLIBC_TUNABLES` arena setting in the environment wins. Call it first thing, before threads start.
    public static func limitArenas(to arenas: Int32) {
        #if canImport(Glibc)
        let tunables = getenv("GLIBC_TUNABLES").map { String(cString: $0) } ?? ""
        guard getenv("MALLOC_ARENA_MAX") == nil, !tunables.contains("arena_max") else { return }
        _ = mallopt(M_ARENA_MAX, arenas)
        #endif
    }

    /// Hands free heap pages back to the kernel; the agent calls it after each reconcile pass, when
    /// the pass's garbage (listed containers, decoded JSON) has been freed.
    static func releaseFreeMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
