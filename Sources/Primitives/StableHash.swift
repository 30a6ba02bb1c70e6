/// FNV-1a, 64 bit: a hash that is the same across runs and machines (unlike `Hasher`), for labels and
/// fingerprints.
public enum StableHash {
    /// The hash of `bytes`.
    public static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The hash of `text`'s UTF-8 bytes as 16 hex digits.
    public static func hex(of text: String) -> String {
        let digits = String(fnv1a(text.utf8), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
