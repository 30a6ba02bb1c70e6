import Etcd
import Render
import Testing

/// confd's key handling: `prefix` joined to `keys`, keys read as string prefixes, the prefix stripped for
/// the template.
@Suite struct KeyPrefixTests {
    func resource(prefix: String = "/", keys: [String]) -> TemplateResource {
        TemplateResource(
            file: "/c/conf.d/t.toml", source: "t.tmpl", sourcePath: "/c/templates/t.tmpl", destination: "/etc/t",
            prefix: prefix, keys: keys)
    }

    @Test func prefixIsJoinedToEachKeyLikeGoPathJoin() {
        #expect(resource(keys: ["/app/servers"]).etcdKeys == ["/app/servers"])
        #expect(resource(prefix: "production", keys: ["/app/servers", "app/x/", "/"]).etcdKeys
            == ["/production/app/servers", "/production/app/x", "/production"])
        #expect(resource(prefix: "/production/", keys: ["//app//servers/"]).etcdKeys == ["/production/app/servers"])
        #expect(resource(prefix: "", keys: ["/a"]).prefix == "/")
    }

    @Test func theTemplateSeesKeysWithThePrefixStripped() {
        let plain = resource(keys: ["/app/servers"])
        #expect(plain.templateKey(for: "/app/servers/web-1") == "/app/servers/web-1")
        let prefixed = resource(prefix: "/production", keys: ["/app/servers"])
        #expect(prefixed.templateKey(for: "/production/app/servers/web-1") == "/app/servers/web-1")
        #expect(prefixed.view(of: ["/production/app/servers/web-1": "10.0.0.1:80", "/staging/app/servers/x": "y"])
            == ["/app/servers/web-1": "10.0.0.1:80"])
    }

    @Test func keysAreReadAsStringPrefixesAsConfdsEtcdV3BackendDoes() {
        let servers = resource(keys: ["/app/servers"])
        let keys = [
            "/app/servers/web-1": "a",
            "/app/servers": "the key itself",
            "/app/servers2/x": "a longer name shares the prefix",
            "/app/serv": "too short",
            "/hecd/agents/h1": "unrelated",
        ]
        #expect(servers.view(of: keys) == [
            "/app/servers/web-1": "a", "/app/servers": "the key itself", "/app/servers2/x": "a longer name shares the prefix",
        ])
        // A trailing slash in keys is cleaned away, as Go's path.Join does.
        #expect(resource(keys: ["/app/servers/"]).view(of: keys).count == 3)
    }

    @Test func oneWatchPerDistinctPrefix() {
        #expect(KeyPath.coveringPrefixes(["/app/servers", "/app", "/hecd/haproxy", "/app/api", "/app"])
            == ["/app", "/hecd/haproxy"])
        #expect(KeyPath.coveringPrefixes(["/app/web", "/app/api"]) == ["/app/api", "/app/web"])
        #expect(KeyPath.coveringPrefixes(["/app/servers", "/app/servers2"]) == ["/app/servers"])
        #expect(KeyPath.coveringPrefixes(["/", "/app"]) == ["/"])
    }

    @Test func goPathClean() {
        #expect(KeyPath.clean("/a//b/./c/..") == "/a/b")
        #expect(KeyPath.clean("/../a") == "/a")
        #expect(KeyPath.clean("") == ".")
        #expect(KeyPath.clean("a/../..") == "..")
        #expect(KeyPath.join("/", "app/servers/x") == "/app/servers/x")
        #expect(KeyPath.join("", "") == "")
    }

    @Test func destinationRootGoesInFront() {
        let plain = resource(keys: ["/a"])
        #expect(plain.destinationPath(root: nil) == "/etc/t")
        #expect(plain.destinationPath(root: "") == "/etc/t")
        #expect(plain.destinationPath(root: "/tmp/root/") == "/tmp/root/etc/t")
    }

    @Test func theKeyCacheFollowsReadsAndEvents() {
        var cache = KeyCache(["/app/a/1": "x", "/app/b/1": "y", "/other": "z"])
        var changed = cache.replace(prefix: "/app/a", with: [EtcdKeyValue(key: "/app/a/2", value: "w")])
        #expect(changed)
        #expect(cache.values == ["/app/a/2": "w", "/app/b/1": "y", "/other": "z"])
        changed = cache.replace(prefix: "/app/a", with: [EtcdKeyValue(key: "/app/a/2", value: "w")])
        #expect(!changed)
        changed = cache.apply([
            EtcdEvent(kind: .put, kv: EtcdKeyValue(key: "/app/b/2", value: "v")),
            EtcdEvent(kind: .delete, kv: EtcdKeyValue(key: "/app/b/1", value: "")),
        ])
        #expect(changed)
        #expect(cache.values == ["/app/a/2": "w", "/app/b/2": "v", "/other": "z"])
        changed = cache.apply([EtcdEvent(kind: .put, kv: EtcdKeyValue(key: "/app/b/2", value: "v"))])
        #expect(!changed)
        changed = cache.apply([EtcdEvent(kind: .delete, kv: EtcdKeyValue(key: "/nothing", value: ""))])
        #expect(!changed)
    }
}
