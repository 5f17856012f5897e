import CZlib
import Foundation

/// Decompresses a gzip file (all members, as `cat a.gz b.gz` produces) with zlib's streaming
/// `inflate`, 1 MB in and 4 MB out at a time.
enum GzipReader {
    static func read(_ path: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError(path, "cannot open") }
        defer { try? handle.close() }
        var stream = z_stream()
        guard czlib_inflateInit2(&stream, 15 + 32) == Z_OK else {
            throw InputError(path, "zlib initialisation failed")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var finished = false
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                while stream.avail_in > 0 {
                    if finished {
                        // Another gzip member follows.
                        inflateReset(&stream)
                        finished = false
                    }
                    let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        let s = inflate(&stream, Z_NO_FLUSH)
                        output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                        return s
                    }
                    switch status {
                    case Z_STREAM_END: finished = true
                    case Z_OK, Z_BUF_ERROR:
                        if status == Z_BUF_ERROR && stream.avail_in > 0 && stream.avail_out > 0 {
                            throw InputError(path, "corrupt gzip data")
                        }
                    default: throw InputError(path, "corrupt gzip data (zlib status \(status))")
                    }
                }
            }
        }
        guard finished else { throw InputError(path, "truncated gzip file") }
        return output
    }
}
