import Manifests
import Primitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A manifest either validates, or every problem names the file and, when it has a line, one inside the file.
/// A restrictive policy can only add problems: what it accepts, the unrestricted one accepts as the same app.
enum ManifestFuzzing {
    static let path = "fuzz/web.yaml"

    static func check(_ input: Data) -> [String] {
        guard input.count <= ManifestLoader.maxFileSize else { return [] }
        let text = text(of: input)
        var broken: [String] = []
        let unrestricted = ManifestLoader.parse(text, path: path, policy: .unrestricted)
        let restricted = ManifestLoader.parse(text, path: path, policy: ManifestPolicy())
        let lines = lineCount(of: text, yamlBreaks: true)
        for file in [unrestricted, restricted] {
            switch file.result {
            case .success(let spec):
                if file.declaredName != spec.name { broken.append("a valid manifest declares \(String(describing: file.declaredName)), not its name \(spec.name)") }
            case .failure(let error):
                if error.problems.isEmpty { broken.append("an invalid manifest with no problem") }
                for problem in error.problems {
                    if problem.file != path { broken.append("a problem names \(problem.file), not \(path)") }
                    if let line = problem.line, !(1...lines).contains(line) {
                        broken.append("a problem on line \(line) of a file of \(lines) lines: \(problem)")
                    }
                    if problem.message.isEmpty { broken.append("a problem without a message") }
                }
            }
        }
        if let spec = restricted.spec, unrestricted.spec != spec {
            broken.append("the restrictive policy accepts an app the unrestricted one reads differently")
        }
        if ManifestLoader.parse(text, path: path, policy: .unrestricted) != unrestricted {
            broken.append("parsing the same text twice gives two results")
        }
        return broken
    }
}
