#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Walks the AST against data and a store, with Go's semantics for variables, dot, pipelines and control flow.
///
/// Values are `TemplateValue?` while evaluating: `nil` is Go's "no value" (a missing map key or field, or nil
/// data), which prints as `<no value>`; it becomes `.null` when passed to a function.
struct Executor {
    typealias Value = TemplateValue?

    private enum Flow { case normal, breakLoop, continueLoop }

    /// A piped-in final argument (present even when it is "no value"), and the variable it was read from when
    /// the command before was a bare `$x` (for the functions that sort in place).
    private struct Final {
        var value: Value
        var variable: String? = nil
    }

    /// confd's functions that sort or reverse their slice argument in place: a variable passed to them sees
    /// the change, as in Go, where the variable holds the same backing array.
    private static let inPlaceFunctions: Set<String> = ["reverse", "sortByLength", "sortKVByLength"]

    private static let maximumDepth = 200

    let name: String
    let templates: [String: [Node]]
    let extraFunctions: [String: TemplateFunction]
    let context: FunctionContext
    private var limits: RenderLimits { context.budget.limits }
    private var variables: [(name: String, value: Value)] = []
    private var depth = 0
    private(set) var output = ""
    private var outputBytes = 0
    /// The action being executed, for budget errors raised while writing text.
    private var position = SourcePosition(line: 1, column: 1)

    init(name: String, templates: [String: [Node]], extraFunctions: [String: TemplateFunction], context: FunctionContext) {
        self.name = name
        self.templates = templates
        self.extraFunctions = extraFunctions
        self.context = context
    }

    // MARK: Budget

    /// Counts `count` steps against `limits.maxSteps`.
    private mutating func spend(_ count: Int = 1) throws(TemplateError) {
        if !context.budget.spend(count) {
            throw error(position, "the render took more than \(limits.maxSteps) steps (its max_steps budget); stopped here, is the template looping or recursing without end?")
        }
    }

    /// Appends to the output within `limits.maxOutputBytes`.
    private mutating func write(_ text: String) throws(TemplateError) {
        outputBytes += text.utf8.count
        if outputBytes > limits.maxOutputBytes {
            throw error(position, "the output grew past \(limits.maxOutputBytes) bytes (its max_output budget); stopped here")
        }
        output += text
    }

    /// A function's result must fit the output budget too (a string doubled at each recursion never reaches
    /// the output before it is huge); a list spends one step per element.
    private mutating func checkResult(
        _ value: Value, of function: String, at position: SourcePosition, countedItsValues: Bool = false
    ) throws(TemplateError) -> Value {
        switch value {
        case .string(let text)? where text.utf8.count > limits.maxOutputBytes:
            throw error(position, "\(function): its result of \(text.utf8.count) bytes is larger than the render's max_output budget (\(limits.maxOutputBytes) bytes)")
        case .string(let text)?:
            self.position = position
            try spend(text.utf8.count / RenderLimits.resultBytesPerStep)
        case .list(let items, _, _)? where !countedItsValues:
            self.position = position
            try spend(items.count)
        default:
            break
        }
        return value
    }

    /// The bytes of a function argument's strings: a string's own, and a list's strings (one level deep, as
    /// `join` and `print` read them).
    private static func stringBytes(in value: TemplateValue) -> Int {
        switch value {
        case .string(let text): text.utf8.count
        case .list(let items, _, _):
            items.reduce(0) { total, item in
                if case .string(let text) = item { total + text.utf8.count } else { total }
            }
        case .kv(let key, let value): key.utf8.count + value.utf8.count
        default: 0
        }
    }

    mutating func run(_ nodes: [Node], data: TemplateValue) throws(TemplateError) {
        let dot: Value = data == TemplateValue.null ? Value.none : data
        variables = [("$", dot)]
        _ = try walk(nodes, dot: dot)
    }

    // MARK: Statements

    private mutating func walk(_ nodes: [Node], dot: Value) throws(TemplateError) -> Flow {
        for node in nodes {
            let flow = try walk(node, dot: dot)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func walk(_ node: Node, dot: Value) throws(TemplateError) -> Flow {
        try spend()
        switch node {
        case .text(let text):
            try write(text)
        case .action(let pipe):
            position = pipe.position
            let value = try evalPipeline(pipe, dot: dot)
            if pipe.declarations.isEmpty {
                position = pipe.position
                try write(value.map(GoFormat.value) ?? "<no value>")
            }
        case .ifBlock(let pipe, let list, let elseList), .withBlock(let pipe, let list, let elseList):
            let mark = variables.count
            defer { variables.removeSubrange(mark...) }
            position = pipe.position
            let value = try evalPipeline(pipe, dot: dot)
            if value?.isTrue ?? false {
                if case .withBlock = node { return try walk(list, dot: value) }
                return try walk(list, dot: dot)
            } else if let elseList {
                return try walk(elseList, dot: dot)
            }
        case .rangeBlock(let pipe, let body, let elseList):
            return try walkRange(pipe, body: body, elseList: elseList, dot: dot)
        case .template(let invoked, let pipe, let position):
            self.position = position
            guard let body = templates[invoked] else {
                throw error(position, "template \(GoQuote.quote(invoked)) not defined")
            }
            guard depth < Self.maximumDepth else {
                throw error(position, "exceeded maximum template depth (\(Self.maximumDepth))")
            }
            var newDot: Value = nil
            if let pipe { newDot = try evalPipeline(pipe, dot: dot) }
            let saved = variables
            variables = [("$", newDot)]
            depth += 1
            defer {
                depth -= 1
                variables = saved
            }
            _ = try walk(body, dot: newDot)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private mutating func walkRange(_ pipe: Pipeline, body: [Node], elseList: [Node]?, dot: Value) throws(TemplateError) -> Flow {
        let outerMark = variables.count
        defer { variables.removeSubrange(outerMark...) }
        position = pipe.position
        let value = try evalPipeline(pipe, dot: dot)
        let mark = variables.count

        func iterate(_ executor: inout Executor, index: Value, element: Value) throws(TemplateError) -> Flow {
            executor.position = pipe.position
            try executor.spend()
            let declarations = pipe.declarations
            if pipe.isAssignment {
                if declarations.count > 1 {
                    try executor.setVariable(declarations[0], index, at: pipe.position)
                    try executor.setVariable(declarations[1], element, at: pipe.position)
                } else if let only = declarations.first {
                    try executor.setVariable(only, element, at: pipe.position)
                }
            } else if !declarations.isEmpty {
                executor.variables[executor.variables.count - 1].value = element
                if declarations.count > 1 { executor.variables[executor.variables.count - 2].value = index }
            }
            defer { executor.variables.removeSubrange(mark...) }
            return try executor.walk(body, dot: element)
        }

        switch value {
        case .list(let items, _, _) where !items.isEmpty:
            for (i, item) in items.enumerated() {
                if try iterate(&self, index: .int(i), element: item) == .breakLoop { break }
            }
            return .normal
        case .map(let map, _) where !map.isEmpty:
            for key in TemplateValue.sortedKeys(map) {
                if try iterate(&self, index: .string(key), element: map[key]) == .breakLoop { break }
            }
            return .normal
        case .int(let count) where count > 0:
            if pipe.declarations.count > 1 {
                throw error(pipe.position, "can't use \(count) to iterate over more than one variable")
            }
            for i in 0..<count {
                if try iterate(&self, index: nil, element: .int(i)) == .breakLoop { break }
            }
            return .normal
        case .list, .map, .int, .null, nil:
            break
        case let other?:
            throw error(pipe.position, "range can't iterate over \(GoFormat.value(other))")
        }
        if let elseList { return try walk(elseList, dot: dot) }
        return .normal
    }

    // MARK: Variables

    private func variable(_ variableName: String, at position: SourcePosition) throws(TemplateError) -> Value {
        for entry in variables.reversed() where entry.name == variableName {
            return entry.value
        }
        throw error(position, "undefined variable: \(variableName)")
    }

    private mutating func setVariable(_ variableName: String, _ value: Value, at position: SourcePosition) throws(TemplateError) {
        for index in variables.indices.reversed() where variables[index].name == variableName {
            variables[index].value = value
            return
        }
        throw error(position, "undefined variable: \(variableName)")
    }

    // MARK: Pipelines and commands

    private mutating func evalPipeline(_ pipe: Pipeline, dot: Value) throws(TemplateError) -> Value {
        var value: Value = nil
        var final: Final?
        for command in pipe.commands {
            value = try evalCommand(command, dot: dot, final: final)
            // Go: "If the object has type interface{}, dig down one level to the thing inside": a nil
            // interface becomes an invalid value, which prints as <no value> (and is nil to a function).
            if value == .null { value = nil }
            var variable: String?
            if command.arguments.count == 1, case .variable(let name, let fields, _) = command.arguments[0], fields.isEmpty {
                variable = name
            }
            final = Final(value: value, variable: variable)
        }
        for declaration in pipe.declarations {
            if pipe.isAssignment {
                try setVariable(declaration, value, at: pipe.position)
            } else {
                variables.append((declaration, value))
            }
        }
        return value
    }

    private mutating func evalCommand(_ command: Command, dot: Value, final: Final?) throws(TemplateError) -> Value {
        guard let first = command.arguments.first else { return nil }
        let rest = command.arguments.dropFirst()
        switch first {
        case .field(let names, let position):
            return try evalFields(dot, names, args: rest, final: final, at: position, dot: dot)
        case .chain(let base, let names, let position):
            let receiver = try evalArgument(base, dot: dot)
            return try evalFields(receiver, names, args: rest, final: final, at: position, dot: dot)
        case .function(let function, let position):
            return try callFunction(function, args: rest, final: final, at: position, dot: dot)
        case .variable(let variableName, let names, let position):
            let value = try variable(variableName, at: position)
            if names.isEmpty {
                try notAFunction(first, rest, final)
                return value
            }
            return try evalFields(value, names, args: rest, final: final, at: position, dot: dot)
        case .pipeline(let pipe):
            try notAFunction(first, rest, final)
            return try evalPipeline(pipe, dot: dot)
        case .nilValue(let position):
            throw error(position, "nil is not a command")
        case .bool, .dot, .number, .string:
            try notAFunction(first, rest, final)
            return try evalArgument(first, dot: dot)
        }
    }

    private func notAFunction(_ first: Argument, _ rest: ArraySlice<Argument>, _ final: Final?) throws(TemplateError) {
        if !rest.isEmpty || final != nil {
            throw error(first.position, "can't give argument to non-function \(first.sourceText)")
        }
    }

    /// An operand in argument position.
    private mutating func evalArgument(_ argument: Argument, dot: Value) throws(TemplateError) -> Value {
        switch argument {
        case .dot: return dot
        case .nilValue: return .null
        case .bool(let b, _): return .bool(b)
        case .number(let n, _): return n.value
        case .string(let s, _): return .string(s)
        case .field(let names, let position):
            return try evalFields(dot, names, args: [], final: nil, at: position, dot: dot)
        case .variable(let variableName, let names, let position):
            let value = try variable(variableName, at: position)
            return names.isEmpty ? value : try evalFields(value, names, args: [], final: nil, at: position, dot: dot)
        case .chain(let base, let names, let position):
            let receiver = try evalArgument(base, dot: dot)
            return try evalFields(receiver, names, args: [], final: nil, at: position, dot: dot)
        case .function(let function, let position):
            return try callFunction(function, args: [], final: nil, at: position, dot: dot)
        case .pipeline(let pipe):
            return try evalPipeline(pipe, dot: dot)
        }
    }

    /// `.a.b.c` on `receiver`; only the last name may take arguments (a method such as `Format`).
    private mutating func evalFields(
        _ receiver: Value, _ names: [String], args: ArraySlice<Argument>, final: Final?, at position: SourcePosition, dot: Value
    ) throws(TemplateError) -> Value {
        var current = receiver
        for (i, fieldName) in names.enumerated() {
            let isLast = i == names.count - 1
            current = try evalField(current, fieldName, args: isLast ? args : [], final: isLast ? final : nil, at: position, dot: dot)
        }
        return current
    }

    private mutating func evalField(
        _ receiver: Value, _ fieldName: String, args: ArraySlice<Argument>, final: Final?, at position: SourcePosition, dot: Value
    ) throws(TemplateError) -> Value {
        guard let receiver else { return nil }
        let hasArgs = !args.isEmpty || final != nil
        switch receiver {
        case .map(let map, _):
            if hasArgs { throw error(position, "\(fieldName) is not a method but has arguments") }
            return map[fieldName]
        case .kv(let key, let value) where fieldName == "Key" || fieldName == "Value":
            if hasArgs { throw error(position, "\(fieldName) has arguments but cannot be invoked as function") }
            return .string(fieldName == "Key" ? key : value)
        case .time(let date, let zone):
            var values: [TemplateValue] = []
            for arg in args { values.append(try evalArgument(arg, dot: dot) ?? .null) }
            if let final { values.append(final.value ?? .null) }
            do {
                if let result = try GoTime.method(fieldName, date, zone, values, localZone: context.timeZone, environment: context.environment) {
                    return result
                }
            } catch {
                throw self.error(position, "\(fieldName): \(error.message)")
            }
        case .null:
            throw error(position, "nil pointer evaluating interface {}.\(fieldName)")
        default:
            break
        }
        throw error(position, "can't evaluate field \(fieldName) in type \(receiver.goTypeName)")
    }

    // MARK: Functions

    private mutating func callFunction(
        _ function: String, args: ArraySlice<Argument>, final: Final?, at position: SourcePosition, dot: Value
    ) throws(TemplateError) -> Value {
        let count = args.count + (final == nil ? 0 : 1)
        if extraFunctions[function] == nil, function == "and" || function == "or" {
            guard count >= 1 else {
                throw error(position, "wrong number of args for \(function): want at least 1 got 0")
            }
            var value: Value = nil
            for arg in args {
                value = try evalArgument(arg, dot: dot)
                if (value?.isTrue ?? false) == (function == "or") { return value }
            }
            if let final { value = final.value }
            return value
        }
        var values: [TemplateValue] = []
        values.reserveCapacity(count)
        var literalInts: [Int?] = []
        for (index, arg) in args.enumerated() {
            values.append(try evalArgument(arg, dot: dot) ?? .null)
            if case .number(let literal, _) = arg {
                if literalInts.isEmpty { literalInts = Array(repeating: nil, count: args.count) }
                literalInts[index] = literal.intValue
            }
        }
        if let final { values.append(final.value ?? .null) }

        self.position = position
        // A call's work grows with the strings it reads: 64 MB through `print` a thousand times is within the
        // step count but not within any time, so big arguments spend steps before the call (see RenderLimits).
        try spend(1 + values.reduce(0) { $0 + Self.stringBytes(in: $1) } / RenderLimits.argumentBytesPerStep)
        if let extra = extraFunctions[function] {
            do {
                return try checkResult(try extra(values), of: function, at: position)
            } catch let failure as TemplateError {
                throw failure
            } catch {
                throw self.error(position, "\(function): \(String(describing: error))")
            }
        }
        guard let builtin = Functions.confd[function] ?? Functions.registryData[function] ?? Functions.builtins[function] else {
            throw error(position, "function \(GoQuote.quote(function)) not defined")
        }
        do {
            try builtin.arity.check(function, values.count)
        } catch {
            throw self.error(position, error.message)
        }
        let result: Value
        do {
            result = try builtin.body(context, Arguments(values: values, literalInts: literalInts))
        } catch {
            throw self.error(position, "\(function): \(error.message)")
        }
        if case .list(let items, _, _)? = result, Self.inPlaceFunctions.contains(function) {
            var source: String?
            if let first = args.first, case .variable(let name, let fields, _) = first, fields.isEmpty { source = name }
            if args.isEmpty { source = final?.variable }
            if let source, case .list(_, let kind, let isNil)?? = try? variable(source, at: position) {
                try setVariable(source, .list(items, kind: kind, isNil: isNil && items.isEmpty), at: position)
            }
        }
        return try checkResult(result, of: function, at: position, countedItsValues: builtin.spendsPerValue)
    }

    private func error(_ position: SourcePosition, _ message: String) -> TemplateError {
        TemplateError(templateName: name, line: position.line, column: position.column, message: message)
    }
}
