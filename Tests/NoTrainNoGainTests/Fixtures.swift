import Foundation

/// Paths of committed test fixtures and of the shared data folder beside the repository.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let demoCorpus = repository.appendingPathComponent("Resources/demo-corpus").path
    /// ../shared/data, if present (tests that need it skip otherwise).
    static let sharedData: String? = {
        let p = repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()

    static func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// A fresh empty temporary directory.
    static func temporaryDirectory() -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("ntng-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// The error `body` throws, as its one-line message ("no error" when it throws none).
func errorMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch { return "\(error)" }
}
