#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Templates
import Primitives

/// A template resource with its template parsed: what the renderer works from.
public struct CompiledResource: Sendable {
    public let resource: TemplateResource
    public let template: Template

    public init(resource: TemplateResource, template: Template) {
        self.resource = resource
        self.template = template
    }

    /// Reads and parses the resource's template file. Errors name the template file, line and column.
    public init(_ resource: TemplateResource) throws(ResourceProblem) {
        guard let data = FileManager.default.contents(atPath: resource.sourcePath) else {
            throw ResourceProblem(file: resource.file, message: "src: cannot read template \(resource.sourcePath)")
        }
        do {
            template = try Template(name: resource.sourcePath, text: String(decoding: data, as: UTF8.self))
        } catch {
            throw ResourceProblem(file: error.templateName, line: error.line, column: error.column, message: error.message)
        }
        self.resource = resource
    }

    /// Loads a confd folder and parses every template; throws every problem found. A `prefix` (confd's
    /// `-prefix`) replaces every resource's own, as in confd.
    public static func load(confdir: String, prefix: String? = nil) throws(ConfdirError) -> [CompiledResource] {
        var resources = try ResourceLoader.load(confdir: confdir)
        if let prefix, !prefix.isEmpty {
            resources = resources.map { resource in
                var changed = resource
                changed.prefix = KeyPath.normalizedPrefix(prefix)
                return changed
            }
        }
        var compiled: [CompiledResource] = []
        var problems: [ResourceProblem] = []
        for resource in resources {
            do {
                compiled.append(try CompiledResource(resource))
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw ConfdirError(problems: problems) }
        return compiled
    }

    /// Renders the template against the resource's view of the etcd keys (see `TemplateResource.view(of:)`).
    public func render(etcdKeys: [String: String], environment: [String: String]) throws(TemplateError) -> String {
        try execute(etcdKeys: etcdKeys, environment: environment).text
    }

    /// Renders within the resource's limits; the result also says which entries the template refused and
    /// which values it marked secret.
    public func execute(etcdKeys: [String: String], environment: [String: String]) throws(TemplateError) -> RenderResult {
        try template.execute(
            store: MemoryStore(resource.view(of: etcdKeys)), environment: environment, limits: resource.limits)
    }
}
