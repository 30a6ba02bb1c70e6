import Primitives
import Render
import Templates
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A resource file either loads as a resource that can be rendered (an absolute destination, keys, a budget),
/// or fails with problems that name the file and a line inside it.
enum ResourceFuzzing {
    static let file = "/etc/confd/conf.d/fuzz.toml"
    static let templates = "/etc/confd/templates"

    static func check(_ input: Data) -> [String] {
        let text = text(of: input)
        let lines = lineCount(of: text)
        var broken: [String] = []
        do {
            let resource = try ResourceLoader.parse(text, file: file, templatesFolder: templates)
            if !resource.destination.hasPrefix("/") { broken.append("a relative destination \(resource.destination)") }
            if resource.keys.isEmpty { broken.append("a resource with no keys") }
            if resource.limits.maxOutputBytes <= 0 || resource.limits.maxSteps <= 0 {
                broken.append("a resource without a budget: \(resource.limits)")
            }
            if !resource.sourcePath.hasPrefix(templates) { broken.append("src outside the templates folder: \(resource.sourcePath)") }
            _ = resource.etcdKeys
            _ = resource.view(of: ["/app/servers/web-1": "10.0.0.1:80", "/": "root"])
        } catch {
            if error.problems.isEmpty { broken.append("a refused resource with no problem") }
            for problem in error.problems {
                if problem.file != file { broken.append("a problem names \(problem.file), not \(file)") }
                if let line = problem.line, !(1...lines).contains(line) {
                    broken.append("a problem on line \(line) of a file of \(lines) lines: \(problem)")
                }
            }
        }
        return broken
    }
}
