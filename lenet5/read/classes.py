"""What a reader of whole numbers tells apart at each place: the ten digits, and "none".

For the segment recognizer of over-segmentation, "none" is a segment that is not exactly one
digit (a piece, a pair, a speck: Sec. VI-A); for the SDNN, an output with no digit centred under
its window ("between", Sec. VII-A). Both readers' weights files say `classes` = CLASSES.
"""

NONE = 10
CLASSES = 11
