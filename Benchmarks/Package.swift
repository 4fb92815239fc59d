// swift-tools-version:6.1
// Benchmarks live in their own package so that FFTW (the reference) is linked only here.
import PackageDescription

let package = Package(
    name: "vigil-benchmarks",
    dependencies: [.package(name: "vigil", path: "..")],
    targets: [
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .target(name: "CBenchAlloc"),
        .executableTarget(name: "vigil-bench", dependencies: [
            "CFFTW", "CBenchAlloc",
            .product(name: "VigilDSP", package: "vigil"),
            .product(name: "VigilRuntime", package: "vigil"),
            .product(name: "VigilFrames", package: "vigil"),
            .product(name: "VigilUplink", package: "vigil"),
            .product(name: "VigilSparkplug", package: "vigil"),
        ]),
    ]
)
