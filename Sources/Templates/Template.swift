#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A parsed template in Go's text/template language with confd's functions: parse once, render many times.
///
/// ```swift
/// let template = try Template(name: "haproxy.cfg.tmpl", text: text)
/// let output = try template.render(store: MemoryStore(["/app/servers/web-1": "10.0.0.1:80"]))
/// ```
public struct Template: Sendable {
    /// The name given at parse time; errors are located in it.
    public let name: String
    /// Names of the templates this text defines with `{{define}}` or `{{block}}`, plus `name` itself.
    public var definedTemplates: [String] { templates.keys.sorted(by: goLess) }

    private let main: [Node]
    private let templates: [String: [Node]]
    private let functions: [String: TemplateFunction]

    /// Parses `text`. `functions` add to (and override) the built-in and confd functions.
    public init(name: String, text: String, functions: [String: TemplateFunction] = [:]) throws(TemplateError) {
        var names = Set(Functions.builtins.keys).union(Functions.confd.keys).union(Functions.registryData.keys)
        names.formUnion(functions.keys)
        let parsed = try Parser.parse(name: name, text: text, functionNames: names)
        self.name = name
        self.main = parsed.main
        self.templates = parsed.defined
        self.functions = functions
    }

    /// Executes the template: `data` is dot (`.`) and `$`; the store answers confd's key functions;
    /// `environment` answers `getenv`; `now` and `timeZone` answer `datetime`.
    public func render(
        store: any TemplateStore,
        data: TemplateValue = .null,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: Date = Date(),
        timeZone: TimeZone = .hostOffset
    ) throws(TemplateError) -> String {
        try render(templateNamed: name, store: store, data: data, environment: environment, now: now, timeZone: timeZone)
    }

    /// Executes one of the templates this text defines (Go's ExecuteTemplate).
    public func render(
        templateNamed templateName: String,
        store: any TemplateStore,
        data: TemplateValue = .null,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: Date = Date(),
        timeZone: TimeZone = .hostOffset
    ) throws(TemplateError) -> String {
        try execute(
            templateNamed: templateName, store: store, data: data, environment: environment, now: now, timeZone: timeZone
        ).text
    }

    /// Executes the template (or one it defines) within `limits`, and returns the text together with the
    /// registry entries the template refused and the values it marked secret.
    public func execute(
        templateNamed templateName: String? = nil,
        store: any TemplateStore,
        data: TemplateValue = .null,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: Date = Date(),
        timeZone: TimeZone = .hostOffset,
        limits: RenderLimits = RenderLimits()
    ) throws(TemplateError) -> RenderResult {
        let templateName = templateName ?? name
        let nodes: [Node]
        if templateName == name {
            nodes = main
        } else if let defined = templates[templateName] {
            nodes = defined
        } else {
            throw TemplateError(templateName: name, line: 1, column: 1, message: "no template \(GoQuote.quote(templateName)) defined")
        }
        let findings = RenderFindings()
        let context = FunctionContext(
            store: store, environment: environment, now: now, timeZone: timeZone, findings: findings, budget: RenderBudget(limits))
        var executor = Executor(name: name, templates: templates, extraFunctions: functions, context: context)
        try executor.run(nodes, data: data)
        return RenderResult(text: executor.output, rejections: findings.rejections, secrets: findings.secrets)
    }
}
