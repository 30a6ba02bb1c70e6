/// hecd's functions for registry data (see `RegistryData`): checks that keep anything but plain names and
/// `host:port` values out of a config, escapes for quoted strings, and `secret`.
extension Functions {
    static let registryData: [String: BuiltinFunction] = [
        "validName": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .bool(RegistryData.nameProblem(try args.string(0)) == nil)
        },
        "validAddress": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .bool(RegistryData.addressProblem(try args.string(0)) == nil)
        },
        // The KVPairs whose key ends in a plain name and whose value is a plain host:port; each other pair is
        // reported (once per render) and left out.
        "validServers": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            guard case .list(let items, _, _) = args[0] else { throw args.mismatch(0, "[]memkv.KVPair") }
            var accepted: [TemplateValue] = []
            for item in items {
                guard case .kv(let key, let value) = item else { throw args.mismatch(0, "[]memkv.KVPair") }
                if let problem = RegistryData.nameProblem(GoPath.base(key)) {
                    context.findings.reject(RejectedEntry(
                        key: key, value: value, reason: "the key's last part is not a server name: \(problem)"))
                } else if let problem = RegistryData.addressProblem(value) {
                    context.findings.reject(RejectedEntry(key: key, value: value, reason: "the value is \(problem)"))
                } else {
                    accepted.append(item)
                }
            }
            return .list(accepted, kind: .kvPairSlice)
        },
        // `validNames LIST [DIR]`: the plain names of LIST (e.g. from `lsdir DIR`); each other one is reported
        // as the key DIR/NAME and left out.
        "validNames": BuiltinFunction(.between(1, 2)) { context, args throws(FunctionError) in
            let names = try args.strings(0)
            let folder = args.count == 2 ? try args.string(1) : ""
            return .list(names.filter { name in
                guard let problem = RegistryData.nameProblem(name) else { return true }
                let key = folder.isEmpty ? name : GoPath.clean(folder) + "/" + name
                context.findings.reject(RejectedEntry(key: key, value: name, reason: "not used as a name: \(problem)"))
                return false
            }.map { .string($0) }, kind: .strings)
        },
        // `reject KEY VALUE REASON`: reports an entry the template leaves out by a check of its own; prints nothing.
        "reject": BuiltinFunction(.exactly(3)) { context, args throws(FunctionError) in
            context.findings.reject(RejectedEntry(key: try args.string(0), value: try args.string(1), reason: try args.string(2)))
            return .string("")
        },
        "haproxyQuote": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .string(RegistryData.haproxyQuoted(try args.string(0)))
        },
        "nginxQuote": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let text = try args.string(0)
            guard let quoted = RegistryData.nginxQuoted(text) else {
                throw FunctionError("\(RegistryData.escapedForLog(text, limit: 40)) holds `$` or a control character, which nginx cannot take in a quoted string")
            }
            return .string(quoted)
        },
        // Returns its argument and marks it secret: hecd keeps it out of logs and writes the file 0600 unless
        // the resource sets `mode`.
        "secret": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            let value = try args.string(0)
            context.findings.secret(value)
            return .string(value)
        },
    ]
}
