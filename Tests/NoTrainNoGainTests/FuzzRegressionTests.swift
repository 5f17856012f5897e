import Foundation
import NoTrainNoGain
import Testing

/// Every input that once broke a parser (`Tests/Fuzz/regressions/<target>/`, kept by
/// `scripts/fuzz.sh`) and every seed (`Tests/Fuzz/seeds/<target>/`) goes through its fuzz target
/// again: parsed or refused with an error, never a trap.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = Fixtures.repository.appendingPathComponent("Tests/Fuzz").path

    func inputs(_ kind: String) -> [(target: String, file: String)] {
        let fm = FileManager.default
        let folder = FuzzRegressionTests.root + "/" + kind
        return ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted().flatMap { target in
            ((try? fm.contentsOfDirectory(atPath: folder + "/" + target)) ?? []).sorted().map {
                (target, folder + "/" + target + "/" + $0)
            }
        }
    }

    @Test func everyTargetHasSeedsAndEverySeedAndCrashInputRunsThrough() throws {
        let seeds = inputs("seeds")
        #expect(Set(seeds.map(\.target)) == Set(FuzzTargets.all.map(\.name)))
        let crashes = inputs("regressions")
        #expect(crashes.count >= 2)
        for (name, file) in seeds + crashes {
            let target = try #require(FuzzTargets.target(named: name), "no fuzz target '\(name)'")
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let scratch = Fixtures.temporaryDirectory()
            if crashes.contains(where: { $0.file == file }) {
                // Malformed on purpose: refused with one line, not parsed and not a trap.
                #expect { try FuzzTargets.run(target, data, scratch: scratch) } throws: { !"\($0)".contains("\n") }
            } else {
                try? FuzzTargets.run(target, data, scratch: scratch)
            }
        }
    }
}
