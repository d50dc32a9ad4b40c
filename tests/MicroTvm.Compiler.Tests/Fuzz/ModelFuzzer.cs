using System.Buffers.Binary;
using System.Diagnostics;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// Mutation fuzzer for the model frontend: takes the shared models, damages them (bit flips, interesting byte
/// values, truncation, spliced offsets and lengths, copied chunks), imports the result and demands that the
/// only failure is a <see cref="CompilerException"/> with an MTVM1xxx code, within a time limit per case.
/// Deterministic for a given seed.
/// </summary>
public sealed class ModelFuzzer
{
    private readonly byte[][] _models;
    private readonly Func<byte[], object?> _target;

    public ModelFuzzer(IEnumerable<byte[]> models, Func<byte[], object?> target)
    {
        _models = models.ToArray();
        _target = target;
    }

    public sealed record Finding(int Iteration, string Mutation, string Problem, byte[] Input);

    public sealed record Report(int Iterations, int Accepted, int Rejected, IReadOnlyDictionary<string, int> Codes, IReadOnlyList<Finding> Findings, TimeSpan Slowest);

    /// <summary>Runs <paramref name="iterations"/> cases from <paramref name="seed"/>; stops early after <paramref name="maxFindings"/>
    /// findings or when <paramref name="budget"/> has passed.</summary>
    public Report Run(int iterations, int seed, TimeSpan perCaseLimit, int maxFindings = 10, Action<Finding>? onFinding = null, TimeSpan? budget = null)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        var findings = new List<Finding>();
        var codes = new SortedDictionary<string, int>();
        int accepted = 0, rejected = 0, run = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < iterations && findings.Count < maxFindings && !(clock.Elapsed > budget); i++, run++)
        {
            var (input, mutation) = Mutate(random);
            var (problem, code, elapsed) = RunCase(input, perCaseLimit);
            if (elapsed > slowest) slowest = elapsed;
            if (problem is not null)
            {
                var finding = new Finding(i, mutation, problem, input);
                findings.Add(finding);
                onFinding?.Invoke(finding);
                if (problem.StartsWith("hang", StringComparison.Ordinal)) break; // the stuck thread keeps a core busy
            }
            else if (code is null) accepted++;
            else
            {
                rejected++;
                codes[code] = codes.GetValueOrDefault(code) + 1;
            }
        }

        return new Report(run, accepted, rejected, codes, findings, slowest);
    }

    private (string? Problem, string? Code, TimeSpan Elapsed) RunCase(byte[] input, TimeSpan limit)
    {
        string? problem = null, code = null;
        var watch = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            try
            {
                _target(input);
            }
            catch (CompilerException e)
            {
                code = e.Code;
                if (!e.Code.StartsWith("MTVM1", StringComparison.Ordinal) || e.Code == ErrorCodes.InternalError)
                    problem = $"unexpected code {e.Code}: {e.Message}";
                else if (e.File is null)
                    problem = $"{e.Code} without a file: {e.Message}";
            }
            catch (Exception e)
            {
                problem = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
            }
        }, maxStackSize: 1 << 20) { IsBackground = true };
        thread.Start();
        if (!thread.Join(limit))
            return ($"hang: no result after {limit.TotalSeconds:0.#} s", null, watch.Elapsed);
        return (problem, code, watch.Elapsed);
    }

    /// <summary>One mutant of a random source model, and what was done to it.</summary>
    public (byte[] Input, string Mutation) Mutate(Random random)
    {
        int source = random.Next(_models.Length);
        var bytes = (byte[])_models[source].Clone();
        int rounds = 1 + random.Next(4);
        var steps = new List<string>();
        for (int r = 0; r < rounds && bytes.Length > 8; r++)
        {
            int kind = random.Next(7);
            int at = random.Next(bytes.Length);
            switch (kind)
            {
                case 0:
                    for (int n = 1 + random.Next(8); n > 0; n--)
                    {
                        int p = random.Next(bytes.Length), bit = random.Next(8);
                        bytes[p] ^= (byte)(1 << bit);
                    }

                    steps.Add($"bitflips near {at}");
                    break;
                case 1:
                {
                    byte[] interesting = { 0, 0xFF, 0x7F, 0x80, 1, 0xFE };
                    bytes[at] = interesting[random.Next(interesting.Length)];
                    steps.Add($"byte {at}");
                    break;
                }
                case 2:
                    bytes = bytes[..Math.Max(0, at)];
                    steps.Add($"truncate to {at}");
                    break;
                case 3:
                {
                    // Splice an offset-like 32-bit value: small, negative, near the end, beyond the end, or another slot's value.
                    int p = at & ~3;
                    if (p + 4 > bytes.Length) break;
                    uint value = random.Next(6) switch
                    {
                        0 => (uint)random.Next(64),
                        1 => unchecked((uint)-random.Next(1, 4096)),
                        2 => (uint)(bytes.Length - random.Next(16)),
                        3 => (uint)bytes.Length + (uint)random.Next(1 << 20),
                        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(random.Next(bytes.Length / 4) * 4)),
                        _ => uint.MaxValue - (uint)random.Next(16),
                    };
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(p), value);
                    steps.Add($"u32 {value} at {p}");
                    break;
                }
                case 4:
                {
                    // Vtable damage: a 16-bit value (vtable sizes and field offsets are 16-bit).
                    int p = at & ~1;
                    if (p + 2 > bytes.Length) break;
                    ushort value = (ushort)(random.Next(3) == 0 ? random.Next(65536) : random.Next(64));
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(p), value);
                    steps.Add($"u16 {value} at {p}");
                    break;
                }
                case 5:
                {
                    // Copy a chunk from elsewhere (possibly another model) over this position.
                    var donor = _models[random.Next(_models.Length)];
                    int length = 1 + random.Next(64);
                    int from = random.Next(Math.Max(1, donor.Length - length));
                    length = Math.Min(length, Math.Min(donor.Length - from, bytes.Length - at));
                    Array.Copy(donor, from, bytes, at, length);
                    steps.Add($"splice {length} bytes at {at}");
                    break;
                }
                default:
                {
                    // Structured: overwrite a whole int32 with a large or negative "dimension"/"index".
                    int p = at & ~3;
                    if (p + 4 > bytes.Length) break;
                    int[] values = { -1, -2, int.MaxValue, int.MinValue, 0x10000, 0, 1, 3 };
                    int value = values[random.Next(values.Length)];
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(p), value);
                    steps.Add($"i32 {value} at {p}");
                    break;
                }
            }
        }

        return (bytes, $"model {source}: " + string.Join(", ", steps));
    }

    /// <summary>The default target: import, then everything the frontend offers on an imported graph.</summary>
    public static object? ImportAndAnalyse(byte[] bytes)
    {
        var graph = TfliteImporter.Load(bytes, "fuzz.tflite");
        return Analysis.GraphStats.Compute(graph);
    }
}
