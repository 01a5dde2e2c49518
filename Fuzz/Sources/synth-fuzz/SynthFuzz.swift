import Foundation
import FuzzTargets

// libFuzzer's driver, linked by -sanitize=fuzzer. SwiftPM gives every executable its own `main`,
// so libFuzzer's is not the one that runs: this one calls the driver with the command line.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<Int32>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target of this process, from SYNTH_FUZZ_TARGET (an environment variable rather than an
/// argument, so libFuzzer's own re-executions, -fork and -jobs, inherit it).
private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SYNTH_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("synth-fuzz: set SYNTH_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    return target
}()

// Also the symbol libFuzzer's own main (pulled in from its archive) links against.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main struct SynthFuzz {
    static func main() {
        _ = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv, fuzzOneInput))
    }
}
