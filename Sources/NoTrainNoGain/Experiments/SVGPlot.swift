import Foundation

/// Minimal SVG charts for experiment reports (no dependencies): line charts with shaded bands and
/// stacked bar charts, with labelled axes, ticks and a legend. Readable in any browser.
public struct SVGPlot {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Optional band (lower, upper) at each point, e.g. the seeds' min and max.
        public var band: [(lower: Double, upper: Double)]?
        public init(name: String, points: [(x: Double, y: Double)], band: [(lower: Double, upper: Double)]? = nil) {
            self.name = name
            self.points = points
            self.band = band
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width = 760.0, height = 460.0
    let left = 78.0, top = 42.0
    var right = 190.0
    var bottom = 58.0
    /// Approximate width of one character of a 12 px label.
    static let characterWidth = 6.5

    static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
    ]

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// "Nice" tick values covering lo…hi.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = (lo / step).rounded(.up) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) < 0.01 ? "%.2e" : "%.3g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }

    /// The axes, grid, ticks and labels; `rotatedTickLabels` slants the x tick labels by 30° (category
    /// names too wide for their slot).
    func frame(
        xRange: (Double, Double), yRange: (Double, Double), xTicks: [Double]? = nil, xTickLabels: [String]? = nil,
        rotatedTickLabels: Bool = false
    ) -> String {
        let (x0, x1) = xRange, (y0, y1) = yRange
        let pw = width - left - right, ph = height - top - bottom
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left + pw / 2)" y="24" text-anchor="middle" font-size="15" font-weight="bold">\
            \(SVGPlot.escape(title))</text>

            """
        for t in SVGPlot.ticks(y0, y1) {
            let y = top + ph * (1 - (t - y0) / (y1 - y0))
            s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + pw)\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(SVGPlot.format(t))</text>\n"
        }
        let xt = xTicks ?? SVGPlot.ticks(x0, x1)
        for (i, t) in xt.enumerated() {
            let x = left + pw * (t - x0) / max(x1 - x0, 1e-12)
            s += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + ph)\" stroke=\"#f0f0f0\"/>"
            let label = SVGPlot.escape(xTickLabels?[i] ?? SVGPlot.format(t))
            s +=
                rotatedTickLabels
                ? "<text transform=\"translate(\(x),\(top + ph + 16)) rotate(-30)\" text-anchor=\"end\">"
                    + "\(label)</text>\n"
                : "<text x=\"\(x)\" y=\"\(top + ph + 18)\" text-anchor=\"middle\">\(label)</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(left + pw / 2)\" y=\"\(height - 14)\" text-anchor=\"middle\">"
        s += "\(SVGPlot.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\">"
        s += "\(SVGPlot.escape(yLabel))</text>\n"
        return s
    }

    func legend(_ names: [String]) -> String {
        var s = ""
        for (i, n) in names.enumerated() {
            let y = top + 10 + Double(i) * 20, x = width - right + 16
            s += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"14\" height=\"10\" "
            s += "fill=\"\(SVGPlot.palette[i % SVGPlot.palette.count])\"/>"
            s += "<text x=\"\(x + 20)\" y=\"\(y)\">\(SVGPlot.escape(n))</text>\n"
        }
        return s
    }

    /// A line chart; `band`s are drawn as translucent areas under the lines. The chart widens to fit
    /// long legend entries.
    public func lines(_ series: [Series]) -> String {
        let legendWidth = Double(series.map(\.name.count).max() ?? 0) * 7 + 50
        guard legendWidth <= right else {
            var plot = self
            plot.width += legendWidth - right
            plot.right = legendWidth
            return plot.lines(series)
        }
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { s in s.points.map(\.y) + (s.band?.flatMap { [$0.lower, $0.upper] } ?? []) }.filter(
            \.isFinite)
        guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else {
            return frame(xRange: (0, 1), yRange: (0, 1)) + "</svg>\n"
        }
        let pad = (yMax - yMin) * 0.05 + 1e-9
        let yr = (yMin - pad, yMax + pad), xr = (xMin, xMax > xMin ? xMax : xMin + 1)
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + pw * (x - xr.0) / (xr.1 - xr.0) }
        func py(_ y: Double) -> Double { top + ph * (1 - (y - yr.0) / (yr.1 - yr.0)) }
        var s = frame(xRange: xr, yRange: yr)
        for (i, series) in series.enumerated() {
            let color = SVGPlot.palette[i % SVGPlot.palette.count]
            if let band = series.band, band.count == series.points.count, !band.isEmpty {
                let upper = zip(series.points, band).map { "\(px($0.x)),\(py($1.upper))" }
                let lower = zip(series.points, band).reversed().map { "\(px($0.x)),\(py($1.lower))" }
                s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" "
                s += "fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
            }
            s += "<polyline points=\"\(series.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " "))\" "
            s += "fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for p in series.points { s += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"2.5\" fill=\"\(color)\"/>" }
            s += "\n"
        }
        return s + legend(series.map(\.name)) + "</svg>\n"
    }

    /// Stacked bars: one bar per category, one segment per part. Category names wider than their
    /// slot are slanted, and the chart grows downwards to hold them.
    public func stackedBars(categories: [String], parts: [String], values: [[Double]]) -> String {
        let widest = Double(categories.map(\.count).max() ?? 0) * SVGPlot.characterWidth
        let slot = (width - left - right) / Double(max(categories.count, 1))
        guard widest > slot * 0.9 else {
            return stackedBarsChart(categories: categories, parts: parts, values: values, rotated: false)
        }
        var plot = self
        plot.bottom += widest * 0.5
        plot.height += widest * 0.5
        return plot.stackedBarsChart(categories: categories, parts: parts, values: values, rotated: true)
    }

    private func stackedBarsChart(categories: [String], parts: [String], values: [[Double]], rotated: Bool) -> String {
        let totals = values.map { $0.reduce(0, +) }
        let yMax = max(totals.max() ?? 1, 1e-9) * 1.05
        let pw = width - left - right, ph = height - top - bottom
        let slot = pw / Double(max(categories.count, 1))
        var s = frame(
            xRange: (0, Double(categories.count)), yRange: (0, yMax),
            xTicks: categories.indices.map { Double($0) + 0.5 }, xTickLabels: categories, rotatedTickLabels: rotated)
        for (c, row) in values.enumerated() {
            var base = 0.0
            for (p, v) in row.enumerated() where v > 0 {
                let y0 = top + ph * (1 - base / yMax), y1 = top + ph * (1 - (base + v) / yMax)
                s += "<rect x=\"\(left + slot * Double(c) + slot * 0.2)\" y=\"\(y1)\" width=\"\(slot * 0.6)\" "
                s += "height=\"\(y0 - y1)\" fill=\"\(SVGPlot.palette[p % SVGPlot.palette.count])\"/>\n"
                base += v
            }
        }
        return s + legend(parts) + "</svg>\n"
    }

    /// Writes `svg` to `path`, and a PNG beside it when `rsvg-convert` is installed; returns the files written.
    @discardableResult
    public static func write(_ svg: String, to path: String) throws -> [String] {
        try svg.write(toFile: path, atomically: true, encoding: .utf8)
        for converter in ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"]
        where FileManager.default.isExecutableFile(atPath: converter) {
            let p = Process(), png = String(path.dropLast(4)) + ".png"
            p.executableURL = URL(fileURLWithPath: converter)
            p.arguments = ["-o", png, path]
            try? p.run()
            p.waitUntilExit()
            return p.terminationStatus == 0 ? [path, png] : [path]
        }
        return [path]
    }
}
