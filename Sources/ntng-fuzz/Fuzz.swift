import Foundation
import NoTrainNoGain

/// The fuzz targets of `FuzzTargets` in one binary. Built for libFuzzer (`scripts/fuzz.sh`:
/// `-sanitize=fuzzer,address -DFUZZING`), it hands its arguments to libFuzzer's driver, which calls
/// the target named by NTNG_FUZZ_TARGET with each input. Built plainly, `ntng-fuzz <target> <file>…`
/// replays inputs through a target and prints, one line each, whether the parser took or refused them.
@main
struct FuzzMain {
    /// A scratch folder of this process's own.
    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ntng-fuzz-\(getpid())").path

    static func main() throws {
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTargets.target(named: name) else {
                let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
                print("usage: ntng-fuzz <target> <file>… (targets: \(names))")
                exit(2)
            }
            for file in arguments.dropFirst() {
                do {
                    try FuzzTargets.run(target, try Data(contentsOf: URL(fileURLWithPath: file)), scratch: scratch)
                    print("\(file): parsed")
                } catch {
                    print("\(file): refused — \(error)")
                }
            }
        #endif
    }
}

#if FUZZING
    /// libFuzzer's driver (`-sanitize=fuzzer` links it): parses its flags from the arguments and calls
    /// `callback` with each input.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    let fuzzTarget: FuzzTargets.Target = {
        let name = ProcessInfo.processInfo.environment["NTNG_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.target(named: name) else {
            let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
            fatalError("NTNG_FUZZ_TARGET must be one of \(names) (got '\(name)')")
        }
        return target
    }()

    /// libFuzzer's entry point (its own `main`, where the linker keeps that one, calls it too).
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
        try? FuzzTargets.run(fuzzTarget, data, scratch: FuzzMain.scratch)
        return 0
    }
#endif
