// Placeholder command line; replaced by the timefusion CLI.
return 0;
