// swift-tools-version:5.7
import PackageDescription

// Yams 6.2.2 (https://github.com/jpsim/Yams, MIT, see LICENSE), cut down to what hecd uses: parsing and composing
// nodes. Without Foundation: the upstream package imports it whole (NSRegularExpression for tag resolution,
// DateFormatter, NumberFormatter), which links Foundation, CoreFoundation and ICU into hecd. See README.md.
let package = Package(
    name: "Yams",
    products: [
        .library(name: "Yams", targets: ["Yams"])
    ],
    targets: [
        .target(
            name: "CYaml",
            cSettings: [.define("YAML_DECLARE_STATIC")]
        ),
        .target(
            name: "Yams",
            dependencies: ["CYaml"],
            cSettings: [.define("YAML_DECLARE_STATIC")]
        ),
    ]
)
