using System.Runtime.CompilerServices;

// The protocol tests exercise the internal codecs (parsers, encoders, SCRAM) directly.
[assembly: InternalsVisibleTo("TimeFusion.Tests")]
