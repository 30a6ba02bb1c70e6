#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The fuzz targets: each feeds one input to a real parser, validator or decoder of hecd and checks what must
/// hold whatever the input. A crash or hang is the fuzzer's to find; a broken invariant is returned as a
/// sentence, which the libFuzzer driver turns into a crash and the corpus replay test into a failure.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// An app manifest (YAML), parsed and validated with and without a restrictive policy.
    case manifest
    /// A confd template resource (TOML), as `ResourceLoader` reads `conf.d/*.toml`.
    case resource
    /// A template: lexed, parsed and executed against a small registry, within the renderer's budget.
    case template
    /// Docker Engine answers: container lists, inspect, events, images, pull progress, registry credentials.
    case docker
    /// etcd gateway answers: range, txn, leases, failures, and a watch stream line by line.
    case etcd
    /// An HAProxy config, or two separated by a NUL byte: tokenised, printed and read again, and the
    /// runtime API's server-change plan between them checked against the two files.
    case haproxy

    /// Runs the input through the target; returns every invariant it broke (empty when all held).
    public func check(_ input: Data) -> [String] {
        switch self {
        case .manifest: ManifestFuzzing.check(input)
        case .resource: ResourceFuzzing.check(input)
        case .template: TemplateFuzzing.check(input)
        case .docker: DockerFuzzing.check(input)
        case .etcd: EtcdFuzzing.check(input)
        case .haproxy: HAProxyFuzzing.check(input)
        }
    }
}

/// The input as text the way the readers see it: invalid UTF-8 replaced (files are read with
/// `String(decoding:as:)`), so every input exercises the parser.
func text(of input: Data) -> String {
    String(decoding: input, as: UTF8.self)
}

/// Lines in `text` (a final line without a newline counts): ended by LF only, as TOML and the template lexer
/// count them, or also by CR, NEL, LS and PS (CR LF is one break), as YAML does.
func lineCount(of text: String, yamlBreaks: Bool = false) -> Int {
    guard yamlBreaks else { return text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } }
    var lines = 1
    var previous: Unicode.Scalar?
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n" where previous == "\r": break
        case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
        default: break
        }
        previous = scalar
    }
    return lines
}
