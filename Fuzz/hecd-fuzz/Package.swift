// swift-tools-version:5.4
// 5.4 on purpose: with newer tools versions (6.1 tried) SwiftPM points an executable's `main` at a function of the
// target's own (`hecd_fuzz_main`), while this driver's `main` is libFuzzer's: the driver defines only
// `LLVMFuzzerTestOneInput` and is built `-parse-as-library`.
import PackageDescription

/// The libFuzzer driver for hecd's fuzz targets (Sources/FuzzTargets of the package two folders up). A package of
/// its own so that its flags stay out of the regular build; Deploy/fuzz.sh builds it (`-c release -Xswiftc
/// -sanitize=fuzzer -Xswiftc -parse-as-library`, C and C++ with `-fsanitize=fuzzer-no-link`) and runs it.
/// Its path dependency is named by the checkout's folder: that folder must not be called `hecd-fuzz`.
let package = Package(
    name: "hecd-fuzz",
    dependencies: [.package(name: "hecd", path: "../..")],
    targets: [
        .executableTarget(
            name: "hecd-fuzz",
            dependencies: [.product(name: "FuzzTargets", package: "hecd")]
        ),
    ]
)
