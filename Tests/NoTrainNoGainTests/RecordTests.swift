import Engine
import Foundation
@testable import NoTrainNoGain
import Testing

/// The typed records every file a user reads is made of: one JSON convention (snake_case keys,
/// non-finite numbers as strings), round trips for every record and every registered plug-in, the
/// typed run log, and the one rule of the seed streams.
@Suite("Records, plug-ins and seeds")
struct RecordTests {
    /// `value` written with the shared conventions and read back.
    func roundTrip<T: Codable>(_ value: T) throws -> (T, String) {
        let text = try JSONCoding.text(value)
        return (try JSONCoding.decoder().decode(T.self, from: Data(text.utf8)), text)
    }

    func parse(_ yaml: String) throws -> PretrainingConfig {
        try PretrainingConfig.parse(yaml: yaml, source: "x.yaml", baseDirectory: "/configs")
    }

    let minimal = "data: {corpus: c.txt}\ntraining: {budget: 5m}\n"

    @Test func everyModelOptimiserAndMethodRoundTripsThroughConfigJSON() throws {
        for kind in Plugins.modelKinds {
            for optimizer in Plugins.optimizers {
                let yaml = """
                    model: {kind: \(kind.name)}
                    data: {corpus: c.txt, tokenizer: tok.json}
                    training: {budget: 90m, cost_model: costs/table.json, validate_every: 10m}
                    optimizer: {name: \(optimizer.name)}
                    stacking: {initial_blocks: 2}
                    layer_drop: {gamma: 7}
                    batch_selection: {method: rho, il_losses: il.safetensors}
                    """
                let config = try parse(yaml)
                let (back, text) = try roundTrip(config)
                #expect(back == config, "\(kind.name) + \(optimizer.name)")
                // Keys a user reads are snake_case, as in the YAML.
                for key in ["\"learning_rate\"", "\"micro_batch_size\"", "\"layer_drop\"", "\"il_losses\""] {
                    #expect(text.contains(key), "\(key) missing")
                }
                #expect(!text.contains("learningRate") && !text.contains("microBatchSize"))
                #expect(back.data.tokenizer == .file("/configs/tok.json"))
                #expect(back.training.costModel == .file("/configs/costs/table.json"))
                #expect(back.optimizer.name == optimizer.name && back.methods.all.count == 3)
            }
        }
    }

    @Test func aStoredConfigDiffersWhereItWasChangedAndNowhereElse() throws {
        let directory = Fixtures.temporaryDirectory()
        let config = try parse(minimal + "stacking: {fractions: [0.2, 0.4]}")
        try JSONCoding.write(config, to: directory + "/config.json")
        #expect(try config.differences(fromStoredAt: directory + "/config.json").isEmpty)
        let changed = try parse(minimal + "stacking: {fractions: [0.2, 0.5]}\ntraining: {budget: 5m, seed: 3}")
        #expect(
            try changed.differences(fromStoredAt: directory + "/config.json") == [
                "methods.stacking.fractions: [0.2,0.4] (stored) vs [0.2,0.5] (now)",
                "training.seed: 0 (stored) vs 3 (now)",
            ])
    }

    @Test func pluginKeysOfAnotherChoiceAreNamedAsTheirs() {
        func error(_ yaml: String) -> String {
            do { _ = try parse(minimal + yaml); return "no error" } catch { return "\(error)" }
        }
        #expect(
            error("batch_selection: {method: rho, beta: 2}")
                == "x.yaml: batch_selection.beta: only applies to method sb (this config uses rho)")
        #expect(
            error("batch_selection: {mega_batch: 4}")
                == "x.yaml: batch_selection.mega_batch: only applies to method rho (this config uses sb)")
        #expect(
            error("optimizer: {name: adamw, hessian_interval: 5}")
                == "x.yaml: optimizer.hessian_interval: only applies to optimizer sophia (this config uses adamw)")
        #expect(error("optimizer: {name: lion, betta1: 0.9}").hasPrefix("x.yaml: optimizer.betta1: unknown key"))
        #expect(
            error("layer_drop: {dropped_blocks: none}")
                == "x.yaml: layer_drop.dropped_blocks: must be one of skip, zero-gradient (got 'none')")
        #expect(
            error("stacking: {fractions: [0.5, 0.2]}")
                == "x.yaml: stacking.fractions: must be increasing (got [0.5, 0.2])")
        #expect(error("training: {budget: 5m, schedule: cosine}").contains("must be one of budget-one-cycle"))
    }

    @Test func nonFiniteNumbersAreWrittenAndReadBackNeverACrash() throws {
        var state = TrainingState(budget: Budget(total: .minutes(3)))
        state.validations = [.init(step: 4, rstSeconds: 12, loss: .nan, accuracy: .infinity)]
        #expect(state.nextValidation == .infinity)
        let (back, text) = try roundTrip(state)
        #expect(text.contains("\"next_validation\" : \"Infinity\"") && text.contains("\"loss\" : \"NaN\""))
        #expect(back.nextValidation == .infinity && back.validations[0].loss.isNaN)
        #expect(back.budget == state.budget && back.format == TrainingState.currentFormat)

        let end = RunEvent.end(
            .init(
                step: 3, rstSeconds: 9, tokens: 100, finalValidationLoss: .nan, finalValidationAccuracy: -.infinity,
                wallSeconds: 1, ledger: Ledger()))
        let line = String(decoding: try end.jsonLine(), as: UTF8.self)
        #expect(line.contains("\"final_validation_loss\":\"NaN\"") && line.contains("\"event\":\"end\""))
        guard case .end(let read) = try RunEvent(jsonLine: Data(line.utf8)) else {
            Issue.record("not read back as an end event")
            return
        }
        #expect(read.finalValidationLoss.isNaN && read.finalValidationAccuracy == -.infinity && read.step == 3)
    }

    @Test func runEventsAreTypedAndMethodEventsKeepTheirFields() throws {
        var ledger = Ledger()
        ledger.charge(.training, RST(seconds: 2))
        ledger.charge(.hessian, RST(seconds: 1), free: true)
        let train = RunEvent.train(
            .init(
                step: 10, loss: 2.5, lr: 1e-3, gradNorm: 0.4, rstSeconds: 2, progress: 0.1, tokens: 512,
                tokensPerSecond: 100, wallSeconds: 5, activeBlocks: 3.5, ledger: ledger,
                plugins: ["selective-backprop": .object(["kept_fraction": .number(0.5)])]))
        let stacking = RunEvent.method(
            .init(name: "stacking", step: 7, rstSeconds: 30, fields: ["from": .number(4), "to": .number(8)]))
        for event in [train, stacking] {
            #expect(try RunEvent(jsonLine: try event.jsonLine()) == event)
        }
        let line = String(decoding: try train.jsonLine(), as: UTF8.self)
        #expect(line.contains("\"grad_norm\":0.4") && line.contains("\"active_blocks\":3.5"))
        #expect(line.contains("\"hessian\":{\"charged_rst_seconds\":0,\"count\":1,\"waived_rst_seconds\":1}"))
        #expect(line.contains("\"plugins\":{\"selective-backprop\":{\"kept_fraction\":0.5}}"))
        let text = String(decoding: try stacking.jsonLine(), as: UTF8.self)
        #expect(text == #"{"event":"stacking","from":4,"rst_seconds":30,"step":7,"to":8}"#)
        // A line cut short by a crash is skipped by the reader, not fatal.
        let path = Fixtures.temporaryDirectory() + "/metrics.jsonl"
        try (String(decoding: try train.jsonLine(), as: UTF8.self) + "\n{\"event\":\"tra")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try MetricsLog.read(path) == [train])
    }

    @Test func seedStreamsFollowTheirOneRule() {
        let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
        for base: UInt64 in [0, 7, 1 << 40] {
            for i in [0, 1, 12_345] {
                let n = UInt64(i)
                // seed(base, i) = (base ⊕ salt) + i·multiplier + offset, the derivations runs used before.
                #expect(SeedStream.trainingMasks.seed(base, i) == base &+ n &* golden &+ 1)
                #expect(SeedStream.dataOrder.seed(base, i) == base &+ n &* golden)
                #expect(SeedStream.hessianLabels.seed(base, i) == (base ^ 0x50F1A) &+ n &* 0xD1B5_4A32_D192_ED03)
                #expect(SeedStream.layerDrop.seed(base, i) == (base ^ 0xD509) &+ n &* 0xA24B_AED4_963E_E407)
                #expect(SeedStream.selectiveBackprop.seed(base, i) == (base ^ 0x5B5B) &+ n &* 0x9FB2_1C65_1E98_DF25)
            }
            #expect(SeedStream.classifierHead.seed(base) == base &+ 17)
            #expect(SeedStream.modelInitialisation.seed(base) == base)
        }
        #expect(SeedStream.validationMasks.seed(0) == 0x5EED_0F7A_11D)
        // No two streams give the same seed for the same base and counter.
        let seeds = SeedStream.allCases.filter { $0 != .modelInitialisation }.map { $0.seed(3, 5) }
        #expect(Set(seeds).count == seeds.count - 1)  // fineTuningOrder is dataOrder's rule (other bases)
    }

    @Test func everyRegisteredPluginHasAUniqueNameAndDefaults() throws {
        #expect(Set(Plugins.modelKinds.map { $0.name }).count == Plugins.modelKinds.count)
        #expect(Set(Plugins.optimizers.map { $0.name }).count == Plugins.optimizers.count)
        #expect(Set(Plugins.methods.map { $0.name }).count == Plugins.methods.count)
        for kind in Plugins.modelKinds {
            let model = ModelConfig(try kind.read(.empty))
            #expect(model.shape.problems().isEmpty, "\(kind.name)")
            #expect(
                OptimizerConfig.paper(named: model.recipe.optimizer, for: RecipeContext(model: model)) != nil,
                "\(kind.name)")
            #expect(CostModel.builtIn[model.recipe.costTable] != nil, "\(kind.name)")
            for method in Plugins.methods { _ = try method.read(.empty, for: RecipeContext(model: model)) }
        }
    }
}
