import Foundation
import Testing

/// `scripts/install-deps.sh` on a machine that has everything: no package manager is called. It once
/// was, on every run: `ldconfig -p | grep -q` under pipefail reported OpenBLAS missing whenever grep
/// stopped reading before ldconfig finished writing (SIGPIPE) — which a long `ldconfig -p` listing
/// with OpenBLAS near its top provokes every time.
@Suite("install-deps")
struct InstallDepsTests {
    @Test func nothingIsInstalledWhenEverythingIsPresent() throws {
        guard FileManager.default.fileExists(atPath: "/usr/include/zlib.h") else {
            print("skipped: zlib headers are not installed here")
            return
        }
        let bin = Fixtures.temporaryDirectory()
        let calls = bin + "/calls"
        let tools = [
            "apt-get": "echo apt-get \"$@\" >> \(calls); exit 1",
            "sudo": "echo sudo \"$@\" >> \(calls); exit 1",
            "ldconfig": "echo 'libopenblas.so.0 (libc6,x86-64) => /usr/lib/libopenblas.so.0'; "
                + "yes 'libother.so (libc6,x86-64) => /usr/lib/libother.so' | head -n 200000",
        ]
        for (tool, body) in tools {
            try "#!/bin/bash\n\(body)\n".write(toFile: bin + "/" + tool, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/" + tool)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Fixtures.repository.appendingPathComponent("scripts/install-deps.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["NTNG_SKIP_MKL"] = "1"
        p.environment = environment
        let output = Pipe()
        p.standardError = output
        try p.run()
        p.waitUntilExit()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(said)")
        #expect(said.contains("OpenBLAS and zlib present"), "\(said)")
        #expect(
            !FileManager.default.fileExists(atPath: calls),
            "called: \((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "")")
    }
}
