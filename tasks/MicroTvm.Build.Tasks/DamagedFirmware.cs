using System;
using System.IO;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>A linked .elf or .map that cannot be read (truncated, garbage, unreadable): the exceptions the readers throw
    /// for it, and the one error (MTVM3110) every task that reads the image gives.</summary>
    internal static class DamagedFirmware
    {
        public static bool IsReadError(Exception e) =>
            e is IOException || e is InvalidDataException || e is OverflowException || e is UnauthorizedAccessException;

        public static void Report(TaskLoggingHelper log, string elfFile, Exception e) =>
            log.LogError(null, ErrorCodes.DamagedFirmware, ErrorCodes.HelpLink, Path.GetFullPath(elfFile), 0, 0, 0, 0,
                "The linked firmware (or its .map) is damaged or unreadable: {0} Delete {1} and build again to relink it.",
                e.Message, Path.GetFileName(elfFile));
    }
}
