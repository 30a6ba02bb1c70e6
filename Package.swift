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
        /// For the libFuzzer driver in Fuzz/hecd-fuzz (a package of its own, built with `-sanitize=fuzzer`).
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
                "Etcd", "HAProxyRuntime", "Primitives", "Templates", .product(name: "TOMLKit", package: "TOMLKit"), "Yams",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        /// Cluster mode's placement: live hosts, apps and slots in, the slots to hold out. No I/O.
        .target(
            name: "Scheduler", dependencies: ["Manifests", "Primitives"], exclude: ["README.md"], swiftSettings: strictSettings
        ),
        /// Cluster mode's etcd side: desired apps, hosts, the elected scheduler's fenced writes, a host's slots.
        .target(
            name: "Cluster",
            dependencies: [
                "Etcd", "Manifests", "Primitives", "Registry", "Scheduler", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        /// The per-host agent: watches manifests and Docker, carries out the reconciler's actions.
        .target(
            name: "Agent",
            dependencies: [
                "CMalloc", "Cluster", "DockerEngine", "Etcd", "HTTPTransport", "Manifests", "Primitives", "Reconciler", "Registry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        /// Running hecd in production: Prometheus metrics, health and a status page on one small HTTP listener,
        /// log formats (text, JSON, journald), and systemd's notify protocol and watchdog.
        .target(
            name: "Operations",
            dependencies: [
                "Agent", "Cluster", "DockerEngine", "Etcd", "Primitives", "Registry", "Render",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hecd",
            dependencies: [
                "Agent", "Cluster", "Manifests", "DockerEngine", "Etcd", "HTTPTransport", "Operations", "Primitives",
                "Registry", "Render", "Scheduler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: foundationEssentialsFirst
        ),
        /// The fuzz targets: one input through a parser, validator or decoder, and the invariants that must hold.
        .target(
            name: "FuzzTargets",
            dependencies: ["DockerEngine", "Etcd", "HAProxyRuntime", "Manifests", "Primitives", "Render", "Templates"],
            swiftSettings: strictSettings
        ),
        /// Writes Deploy/'s shell completions and man page from hecd's argument parser (a developer tool).
        .executableTarget(name: "hecd-docs", swiftSettings: strictSettings),
        /// Renders a template over a key set the way a confd render does, timed (bench/templates.py, against Go).
        .executableTarget(name: "hecd-template-bench", dependencies: ["Templates"], swiftSettings: strictSettings),
        .testTarget(
            name: "RenderTests",
            dependencies: [
                "Render", "Etcd", "HAProxyRuntime", "HTTPTransport", "Primitives", "Templates", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Etcd", "Manifests", "Registry", "Scheduler", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
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
        .testTarget(name: "SchedulerTests", dependencies: ["Manifests", "Scheduler"], swiftSettings: strictSettings),
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
            dependencies: [
                "Agent", "Cluster", "DockerEngine", "EngineTesting", "Etcd", "HTTPTransport", "Manifests", "Primitives", "Reconciler",
                "Registry", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "Agent", "DockerEngine", "EngineTesting", "Etcd", "Primitives", "Registry",
                "RegistryTesting", "Render", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"], swiftSettings: strictSettings),
        .testTarget(
            name: "TemplatesTests",
            dependencies: ["Templates"],
            exclude: ["GoReference"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ]
)
