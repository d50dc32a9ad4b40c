using System.Buffers.Binary;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.OpOracle;

/// <summary>Runs every case of a folder through the importer and the reference evaluator and compares with TFLM.</summary>
public static class Check
{
    public static int Run(string root)
    {
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            try
            {
                var graph = TfliteImporter.Load(Path.Combine(dir, "model.tflite"));
                var input = File.ReadAllBytes(Path.Combine(dir, "input0.bin"));
                var inputs = new List<byte[]>();
                int at = 0;
                foreach (var t in graph.Inputs) { inputs.Add(input[at..(at + (int)t.ByteSize)]); at += (int)t.ByteSize; }
                var values = ReferenceEvaluator.Run(graph, inputs);
                var expected = File.ReadAllBytes(Path.Combine(dir, "output0.bin"));
                at = 0;
                var report = new List<string>();
                foreach (var t in graph.Outputs)
                {
                    var e = expected[at..(at + (int)t.ByteSize)];
                    at += (int)t.ByteSize;
                    var a = values[t];
                    int size = t.Type.SizeInBytes(), differ = 0, maxDiff = 0;
                    for (int i = 0; i < e.Length / size; i++)
                    {
                        if (t.Type == ElementType.Float32)
                        {
                            float x = BinaryPrimitives.ReadSingleLittleEndian(e.AsSpan(4 * i)), y = BinaryPrimitives.ReadSingleLittleEndian(a.AsSpan(4 * i));
                            if (!(Math.Abs(x - y) <= 1e-5 * (1 + Math.Abs(x)))) differ++;
                        }
                        else if (!e.AsSpan(i * size, size).SequenceEqual(a.AsSpan(i * size, size)))
                        {
                            differ++;
                            long x = Read(t.Type, e, i), y = Read(t.Type, a, i);
                            maxDiff = (int)Math.Max(maxDiff, Math.Abs(x - y));
                        }
                    }

                    if (differ > 0) report.Add($"{t.Name}: {differ} of {e.Length / size} differ (max |diff| {maxDiff})");
                }

                Console.WriteLine(report.Count == 0 ? $"equal    {name}" : $"DIFFERS  {name}: {string.Join("; ", report)}");
            }
            catch (CompilerException e)
            {
                Console.WriteLine($"rejected {name}: {e.Code} {e.Message}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"CRASH    {name}: {e.GetType().Name} {e.Message}");
            }
        }

        return 0;
    }

    private static long Read(ElementType type, byte[] bytes, int i) => type switch
    {
        ElementType.Int8 => (sbyte)bytes[i],
        ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i)),
        ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)),
        ElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i)),
        _ => bytes[i],
    };
}
