#!/bin/sh
# Makes the fonts in this folder from Debian's Noto fonts (fonts-noto-core,
# fonts-noto-ui-core) with fontTools' pyftsubset (Debian's fonttools):
#   apt-get install fonts-noto-core fonts-noto-ui-core fonttools
#   sh internal/pdf/fonts/subset.sh
# Noto Sans keeps Latin (English, French, Somali, Swahili and the other
# languages written with Latin-1, Latin Extended-A and B); Noto Sans Arabic
# UI keeps the Arabic letters, Arabic and Persian digits, and the Arabic
# presentation forms B. Hinting is dropped: PDF viewers and printers do not
# need it. Each keeps the layout features pyftsubset keeps by default,
# which include Arabic joining (init, medi, fina, isol, rlig) and mark
# positioning.
set -e
cd "$(dirname "$0")"
noto=/usr/share/fonts/truetype/noto
latin="U+0020-007E,U+00A0-017F,U+0180-024F,U+0259,U+025B,U+0254,U+0272,U+028B,U+02BC,U+02C6,U+02C7,U+02DA,U+02DC,U+0300-0308,U+030A,U+030C,U+0327,U+2010-2014,U+2018-201E,U+2022,U+2026,U+20AC"
arabic="U+0020,U+00A0,U+060C,U+061B,U+061F,U+0621-065F,U+0660-066D,U+0670-0671,U+067E,U+0686,U+0698,U+06A4,U+06A9,U+06AF,U+06CC,U+06F0-06F9,U+FE70-FEFF,U+200C-200F,U+0030-0039,U+002E,U+002C,U+003A,U+002D,U+002F"
for w in Regular Bold; do
	pyftsubset "$noto/NotoSans-$w.ttf" --unicodes="$latin" --no-hinting \
		--name-IDs='0,1,2,3,4,5,6,13,14' --output-file="NotoSans-$w.ttf"
	pyftsubset "$noto/NotoSansArabicUI-$w.ttf" --unicodes="$arabic" --no-hinting \
		--name-IDs='0,1,2,3,4,5,6,13,14' --output-file="NotoSansArabicUI-$w.ttf"
done
