// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// TOMLKit imports Foundation (for `Data` and `Date` only), so a static link line names libFoundation.a before
/// libFoundationEssentials.a, and lld takes libFoundation.a's copy of a weak symbol both define: that one member drags
/// all of Foundation, CoreFoundation (whose initialiser runs at every start) and ICU in (50 MB of binary, 3 MB
/// resident), though hecd uses none of it. The release build (`hecd_release_build` in Deploy/lib.sh) names the
/// toolchain's FoundationEssentials archive in `HECD_ESSENTIALS_ARCHIVE`, and it is linked first.
let foundationEssentialsFirst: [LinkerSetting] = Context.environment["HECD_ESSENTIALS_ARCHIVE"].map {
    [.unsafeFlags([$0])]
} ?? []

let package = Package(
    name: "hecd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hecd", targets: ["hecd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        /// libcurl (Debian: libcurl4-openssl-dev) with typed wrappers for its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// glibc's malloc tuning calls (`mallopt`, `malloc_trim`).
        .systemLibrary(name: "CMalloc"),
        /// The small shared pieces: a wake-up signal for several waiters, FNV-1a, "did you mean", the
        /// `file:line:column:` problem format, `Duration` in seconds and milliseconds.
        .target(name: "Primitives", swiftSettings: strictSettings),
        /// HTTP over a Unix socket or TCP on libcurl, blocking calls on threads of its own.
        .target(
            name: "HTTPTransport",
            dependencies: ["CCurl", "Primitives"],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        /// Docker Engine API client.
        .target(
            name: "DockerEngine",
            dependencies: ["HTTPTransport", "Primitives"],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        /// A container engine in memory (latencies, failures, events) for tests and benchmarks without dockerd.
        .target(
            name: "EngineTesting",
            dependencies: ["DockerEngine"],
            swiftSettings: strictSettings
        ),
        /// etcd v3 client over the JSON gateway: KV, transactions, leases, watches, auth, failover.
        .target(
            name: "Etcd",
            dependencies: ["HTTPTransport", "Primitives"],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        /// App manifests: YAML files parsed and strictly validated.
        .target(
            name: "Manifests",
            dependencies: ["Primitives", "Yams"],
            swiftSettings: strictSettings
        ),
        /// Pure decisions: desired apps + observed containers + time → actions.
        .target(
            name: "Reconciler",
            dependencies: ["Manifests", "Primitives"],
            swiftSettings: strictSettings
        ),
        /// Announces containers in etcd under one lease per agent.
        .target(
            name: "Registry",
            dependencies: ["Etcd", "Primitives", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        /// An in-memory registry store with leases, for tests of the registry and the agent.
        .target(
            name: "RegistryTesting",
            dependencies: ["Registry"],
            swiftSettings: strictSettings
        ),
        /// Go text/template as confd uses it: parse once, render many times against a key-value store.
        .target(
            name: "Templates",
            dependencies: ["Primitives"],
            exclude: ["SUPPORTED.md"],
            swiftSettings: strictSettings
        ),
        /// HAProxy's runtime API: which server changes it can make without a reload, and making them.
        .target(
            name: "HAProxyRuntime",
            dependencies: ["Primitives", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSettings
        ),
        /// confd's job: template resources rendered from etcd watches, staged, checked, swapped in, reloaded.
        .target(
            name: "Render",
            dependencies: [
                "Etcd", "HAProxyRuntime", "Primitives", "Templates", .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        /// The per-host agent: watches manifests and Docker, carries out the reconciler's actions.
        .target(
            name: "Agent",
            dependencies: [
                "CMalloc", "DockerEngine", "HTTPTransport", "Manifests", "Primitives", "Reconciler", "Registry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hecd",
            dependencies: [
                "Agent", "Manifests", "DockerEngine", "Etcd", "HTTPTransport", "Primitives", "Registry", "Render",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: foundationEssentialsFirst
        ),
        .testTarget(
            name: "RenderTests",
            dependencies: [
                "Render", "Etcd", "HAProxyRuntime", "HTTPTransport", "Primitives", "Templates", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests", "Primitives"], swiftSettings: strictSettings),
        .testTarget(name: "PrimitivesTests", dependencies: ["Primitives"], swiftSettings: strictSettings),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "DockerEngine", "EngineTesting", "Manifests", "Primitives", "Reconciler", "Registry",
                "RegistryTesting", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HAProxyRuntimeTests", dependencies: ["HAProxyRuntime", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Manifests"], swiftSettings: strictSettings),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "RegistryTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "HTTPTransport", "TestSupport"], swiftSettings: strictSettings),
        /// Real daemons for tests (etcd on free loopback ports), shared by the test targets.
        .target(name: "TestSupport", dependencies: ["HTTPTransport", "Primitives"], path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "EtcdTests", dependencies: ["Etcd", "HTTPTransport", "Registry", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Agent", "DockerEngine", "Etcd", "HTTPTransport", "Manifests", "Reconciler", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TemplatesTests",
            dependencies: ["Templates"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ]
)
